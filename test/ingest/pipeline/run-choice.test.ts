import { beforeAll, describe, expect, it } from 'vitest';
import { chooseRun } from '../../../ingest/pipeline/run-choice.ts';
import { AUDIO_RENDITION, PASSTHROUGH_ONLY, SOURCE_RENDITION, type Rendition } from '../../../ingest/transcode/ladder.ts';
import { readTags, writeFlv } from '../../helpers/flv-synth.ts';
import { makeFlv } from '../../helpers/media-fixtures.ts';

const VIDEO_ONLY: Rendition[] = [{ name: SOURCE_RENDITION, kind: 'video', encoding: 'copy' }];
const AUDIO_ONLY: Rendition[] = [PASSTHROUGH_ONLY[1]!];
const WITH_RUNG: Rendition[] = [...PASSTHROUGH_ONLY, { name: '360p', kind: 'video', encoding: 'h264', height: 360, bitrate: 800_000, preset: 'veryfast' }];

/** The same FLV with its AAC configuration replaced (the frames stay LC: only what is signalled matters here). */
function withAudioConfig(flv: Buffer, config: number[]): Buffer {
  return writeFlv(readTags(flv).map((tag) => (tag.type === 8 && tag.data[1] === 0 ? { ...tag, data: new Uint8Array([tag.data[0]!, 0, ...config]) } : tag)));
}

describe('run choice: no ffmpeg when nothing is encoded', () => {
  let source: Buffer;
  let source44: Buffer;
  let mp3: Buffer;
  let silent: Buffer;

  beforeAll(async () => {
    [source, source44, mp3, silent] = await Promise.all([
      makeFlv({ seconds: 1, gopFrames: 30 }),
      makeFlv({ seconds: 1, gopFrames: 30, audioSampleRate: 44100 }),
      makeFlv({ seconds: 1, gopFrames: 30, audioCodec: 'libmp3lame', audioSampleRate: 44100 }),
      makeFlv({ seconds: 1, gopFrames: 30, audio: false }),
    ]);
  });

  it.each<{ what: string; renditions: () => readonly Rendition[]; flv: () => Buffer; expected: RegExp | 'remux' }>([
    { what: 'passthrough video and AAC-LC 48 kHz', renditions: () => PASSTHROUGH_ONLY, flv: () => source, expected: 'remux' },
    { what: 'AAC-LC 44.1 kHz', renditions: () => PASSTHROUGH_ONLY, flv: () => source44, expected: 'remux' },
    { what: 'a video-only ladder (its audio unread)', renditions: () => VIDEO_ONLY, flv: () => mp3, expected: 'remux' },
    { what: 'an audio-only ladder', renditions: () => AUDIO_ONLY, flv: () => source, expected: 'remux' },
    { what: 'a rung to encode', renditions: () => WITH_RUNG, flv: () => source, expected: /rendition 360p is encoded/ },
    { what: 'an encoded top', renditions: () => [{ name: SOURCE_RENDITION, kind: 'video', encoding: 'h264', bitrate: 1_000_000, preset: 'veryfast' }], flv: () => source, expected: /rendition source is encoded/ },
    { what: 'MP3 audio', renditions: () => PASSTHROUGH_ONLY, flv: () => mp3, expected: /MP3 audio is not AAC/ },
    { what: 'HE-AAC signalled', renditions: () => PASSTHROUGH_ONLY, flv: () => withAudioConfig(source, [0x2b, 0x10, 0x88, 0x00]), expected: /HE-AAC/ },
    { what: 'AAC at 22.05 kHz', renditions: () => PASSTHROUGH_ONLY, flv: () => withAudioConfig(source, [0x13, 0x90]), expected: /22050 Hz/ },
    { what: 'an audio rendition but no audio configuration', renditions: () => [...VIDEO_ONLY, { name: AUDIO_RENDITION, kind: 'audio', encoding: 'aac', bitrate: 128_000, sampleRate: 48000, channels: 2 }], flv: () => silent, expected: /no AAC configuration/ },
  ])('$what', ({ renditions, flv, expected }) => {
    const bytes = flv();
    // In pieces, as the probe buffered them.
    const pieces = Array.from({ length: Math.ceil(bytes.length / 1000) }, (_, i) => bytes.subarray(i * 1000, (i + 1) * 1000));
    const choice = chooseRun(renditions(), pieces);
    if (expected === 'remux') expect(choice).toEqual({ kind: 'remux' });
    else expect(choice).toMatchObject({ kind: 'ffmpeg', reason: expect.stringMatching(expected) });
  });
});
