/**
 * The ffmpeg arguments of every publisher the tests and scripts run (one place for them): the
 * test pattern (testsrc2 with a 440 Hz tone) encoded as OBS would and sent over RTMP(S) in real
 * time, and a prepared FLV file copied in real time; the test pattern's inputs also make the
 * tests' media fixtures.
 */

export interface TestPatternInput {
  /** WIDTHxHEIGHT. */
  size: string;
  /** Frames per second; default 30. */
  fps?: number;
  /** A filter drawn over the picture (e.g. a burnt-in clock), in the source's filter chain. */
  overlay?: string;
  /** The tone beeps (4 times a second at 1 kHz) instead of a steady 440 Hz: a stream you can hear move. */
  beep?: boolean;
}

/** The test pattern's picture as an ffmpeg input (colour bars and moving shapes). */
export function testPatternVideoInput(input: Pick<TestPatternInput, 'size' | 'fps' | 'overlay'>): string[] {
  return ['-f', 'lavfi', '-i', `testsrc2=size=${input.size}:rate=${input.fps ?? 30}${input.overlay ? `,${input.overlay}` : ''}`];
}

/** The test pattern's tone as an ffmpeg input (mono). */
export function testPatternAudioInput(input: Pick<TestPatternInput, 'beep'> & { sampleRate?: number } = {}): string[] {
  const sampleRate = input.sampleRate ?? 48000;
  return ['-f', 'lavfi', '-i', input.beep ? `sine=frequency=1000:beep_factor=4:sample_rate=${sampleRate}` : `sine=frequency=440:sample_rate=${sampleRate}`];
}

/** The test pattern's inputs, in real time (`-re`): what publishers and the plain reference stream encode. */
export function testPatternInputArgs(input: TestPatternInput): string[] {
  return ['-re', ...testPatternVideoInput(input), ...testPatternAudioInput(input)];
}

/**
 * How the test pattern is encoded: x264 for live (zerolatency), keyframes every 2 s at 30 fps (60
 * frames), so the sidecar's ladder passes the source through.
 */
export function testPatternEncodeArgs(preset: 'ultrafast' | 'veryfast' = 'veryfast'): string[] {
  return ['-c:v', 'libx264', '-preset', preset, '-tune', 'zerolatency', '-g', '60', '-pix_fmt', 'yuv420p', '-c:a', 'aac'];
}

/** ffmpeg publishing the test pattern to `url`, quietly, for `seconds` (or until stopped). */
export function testPatternPublishArgs(url: string, options: { size?: string; seconds?: number; preset?: 'ultrafast' | 'veryfast' } = {}): string[] {
  return [
    '-hide_banner', '-loglevel', 'error',
    ...testPatternInputArgs({ size: options.size ?? '640x360' }),
    ...(options.seconds === undefined ? [] : ['-t', String(options.seconds)]),
    ...testPatternEncodeArgs(options.preset),
    '-f', 'flv', url,
  ];
}

/** ffmpeg sending an FLV file's bytes to `url` in real time, without re-encoding them. */
export function fileCopyPublishArgs(file: string, url: string): string[] {
  return ['-hide_banner', '-loglevel', 'error', '-re', '-i', file, '-c', 'copy', '-f', 'flv', url];
}
