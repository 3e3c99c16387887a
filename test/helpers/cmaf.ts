/** Reads CMAF timing the way MSE players (hls.js, dash.js) do: tfdt plus the sample's composition offset. */
import { parseCmafInitSegment, parseFragmentTiming } from '../../ingest/package/cmaf-track.ts';

/** Seconds at which a media segment's first sample is presented. */
export function segmentPresentationStart(init: Uint8Array, segment: Uint8Array): number {
  const track = parseCmafInitSegment(init);
  // The segment's first moof (parseFragmentTiming reads the first one in the bytes it is given).
  const timing = parseFragmentTiming(segment, track);
  return (timing.baseMediaDecodeTime + timing.firstCompositionOffset) / track.timescale;
}
