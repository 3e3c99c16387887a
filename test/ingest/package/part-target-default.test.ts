/**
 * The default part target (`--chunk-duration`) against the spec's bounds on part durations
 * (draft-pantos-hls-rfc8216bis §4.4.4.9): every part at most PART-TARGET, and every part but a
 * segment's last and one that starts with a keyframe (INDEPENDENT=YES) at least 85 % of it, for
 * the frame rates publishers send (on FLV's millisecond clock) and AAC at 44.1 and 48 kHz.
 */
import { describe, expect, it } from 'vitest';
import { CmafTrackPackager, type PackagerSample } from '../../../ingest/package/cmaf-packager.ts';
import type { TrackConfig } from '../../../ingest/package/cmaf-init-writer.ts';
import { SIDECAR_OPTIONS } from '../../../ingest/options/sidecar-options.ts';

const AVC_RECORD = new Uint8Array([
  0x01, 0x64, 0x00, 0x1e, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40, 0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01,
  0x00, 0x00, 0x03, 0x00, 0x3c, 0x0f, 0x16, 0x2d, 0x96, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0,
]);
const VIDEO: TrackConfig = { kind: 'video', avcC: AVC_RECORD, width: 640, height: 360, timescale: 90_000 };
const audioConfig = (sampleRate: number): TrackConfig => ({ kind: 'audio', audioSpecificConfig: new Uint8Array([0x11, 0x90]), sampleRate, channels: 2, timescale: sampleRate });

const partTarget = Number(SIDECAR_OPTIONS.chunkDuration.default);

/** Part durations (s) of a track (the run's last apart), each with whether the floor exempts it: its segment's last, or (`spec`) one starting with a sync sample. */
function parts(config: TrackConfig, samples: PackagerSample[], exemptOnly: 'segment end' | 'spec' = 'spec'): { duration: number; exempt: boolean }[] {
  const found: { duration: number; exempt: boolean }[] = [];
  const packager = new CmafTrackPackager(config, { targetSegmentDuration: 2, partTarget }, {
    onInit: () => {},
    onChunk: (chunk, track, position) => found.push({ duration: chunk.duration / track.timescale, exempt: position.reachesBoundary || (exemptOnly === 'spec' && chunk.independent) }),
    onSegment: () => {},
  });
  for (const sample of samples) packager.push(sample);
  packager.end();
  return found.slice(0, -1);
}

describe(`the default part target (${partTarget} s) fits the spec's part durations`, () => {
  it.each([23.976, 24, 25, 29.97, 30, 50, 59.94, 60])('video at %s fps, 2 s keyframes', (fps) => {
    const keyEvery = Math.round(2 * fps);
    const samples = Array.from({ length: Math.round(10 * fps) }, (_, i) => ({ decodeTime: Math.round((i * 1000) / fps) * 90, compositionOffset: 0, keyframe: i % keyEvery === 0, data: new Uint8Array([i & 0xff]) }));
    const found = parts(VIDEO, samples);
    expect(found.length).toBeGreaterThan(30);
    for (const part of found) {
      expect(part.duration).toBeLessThanOrEqual(partTarget);
      if (!part.exempt) expect(part.duration).toBeGreaterThanOrEqual(0.85 * partTarget);
    }
  });

  it.each([44100, 48000])('AAC at %s Hz', (sampleRate) => {
    const samples = Array.from({ length: Math.ceil((10 * sampleRate) / 1024) }, (_, i) => ({ decodeTime: i * 1024, compositionOffset: 0, keyframe: true, data: new Uint8Array([i & 0xff]) }));
    // Every audio part starts with a sync sample (exempt as INDEPENDENT=YES), yet only a segment's last is short.
    for (const part of parts(audioConfig(sampleRate), samples, 'segment end')) {
      expect(part.duration).toBeLessThanOrEqual(partTarget);
      if (!part.exempt) expect(part.duration).toBeGreaterThanOrEqual(0.85 * partTarget);
    }
  });
});
