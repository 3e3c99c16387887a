import { describe, expect, it } from 'vitest';
import { buildFfmpegArgs, outputFd } from '../../../ingest/transcode/ffmpeg-args.ts';
import type { Rendition } from '../../../ingest/transcode/ladder.ts';

const rung = (height: number | undefined): Rendition => ({ name: height ? `${height}p` : 'source', kind: 'video', encoding: 'h264', height, bitrate: 1_000_000, preset: 'veryfast' });

/** The options given to output `index` (between the previous output's pipe and its own). */
function outputOptions(args: string[], index: number): string[] {
  const end = args.indexOf(`pipe:${outputFd(index)}`);
  const start = index === 0 ? args.indexOf('pipe:0') + 1 : args.indexOf(`pipe:${outputFd(index - 1)}`) + 1;
  return args.slice(start, end);
}

describe('ffmpeg arguments of a ladder run', () => {
  it('encodes rungs of 480 lines or fewer with one x264 thread, taller ones and a re-encoded source with its threads', () => {
    const renditions = [rung(undefined), rung(720), rung(480), rung(360)];
    const args = buildFfmpegArgs({ renditions, keyframeInterval: 2 });
    const threads = renditions.map((_, index) => {
      const options = outputOptions(args, index);
      const at = options.indexOf('-threads');
      return at < 0 ? 'default' : options[at + 1];
    });
    expect(threads).toEqual(['default', 'default', '1', '1']);
  });

  it('decodes and filters a source of 1080 lines or fewer in one thread; a taller or unknown one as ffmpeg chooses', () => {
    const inputOptions = (sourceHeight: number | undefined) => {
      const args = buildFfmpegArgs({ renditions: [rung(360)], keyframeInterval: 2, sourceHeight });
      return args.slice(0, args.indexOf('pipe:0'));
    };
    for (const height of [360, 720, 1080]) {
      const options = inputOptions(height);
      // Before -i: the decoder's threads, not an output's.
      expect(options.slice(options.indexOf('-threads'), options.indexOf('-threads') + 2)).toEqual(['-threads', '1']);
      expect(options).toContain('-filter_complex_threads');
    }
    for (const height of [1440, 2160, 0, undefined]) {
      expect(inputOptions(height)).not.toContain('-threads');
      expect(inputOptions(height)).not.toContain('-filter_complex_threads');
    }
  });

  it('leaves audio encoding as it is', () => {
    const args = buildFfmpegArgs({ renditions: [{ name: 'audio', kind: 'audio', encoding: 'aac', bitrate: 128_000, sampleRate: 48_000, channels: 2 }], keyframeInterval: 2 });
    expect(args.slice(args.indexOf('pipe:0'))).not.toContain('-threads');
  });
});
