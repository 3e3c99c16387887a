/** Reads CMAF timing the way MSE players (hls.js, dash.js) do: tfdt plus the sample's composition offset. */
import { parseCmafInitSegment, parseFragmentTiming } from '../../ingest/package/cmaf-track.ts';
import { Fmp4StreamSplitter } from '../../ingest/package/fmp4-stream-splitter.ts';

/** Seconds at which a media segment's first sample is presented. */
export function segmentPresentationStart(init: Uint8Array, segment: Uint8Array): number {
  const track = parseCmafInitSegment(init);
  const moof = new Fmp4StreamSplitter().push(segment).find((box) => box.type === 'moof');
  if (!moof) throw new Error('segment without a moof');
  const timing = parseFragmentTiming(moof.bytes, track);
  return (timing.baseMediaDecodeTime + timing.firstCompositionOffset) / track.timescale;
}
