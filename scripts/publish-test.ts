/** `npm run publish:test`: publishes a 720p30 test pattern with a burnt-in clock and a tone. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { locateFfmpeg, FfmpegNotFoundError } from '../ingest/transcode/ffmpeg-binary.ts';
import { describeFailure, FfmpegPublisher } from './lib/ffmpeg-publisher.ts';
import { testPatternInputArgs } from './lib/ffmpeg-args.ts';

const program = new Command('publish:test')
  .description('Publish a test pattern (burnt-in wall clock, 1 kHz beep every second) over RTMP, in real time.')
  .addOption(new Option('--url <rtmp-url>', 'where to publish').default('rtmp://localhost:1935/live/test'))
  .addOption(
    new Option('--duration <seconds>', 'stop after this many seconds (default: until Ctrl-C)').argParser((value) => {
      const seconds = Number(value);
      if (!(seconds > 0)) throw new InvalidArgumentError('expected a positive number of seconds');
      return seconds;
    }),
  )
  .addOption(new Option('--size <WxH>', 'picture size').default('1280x720'))
  .addOption(new Option('--fps <n>', 'frame rate').default('30'))
  .addOption(new Option('--gop <seconds>', 'keyframe interval').default('2'))
  .parse();

const options = program.opts<{ url: string; duration?: number; size: string; fps: string; gop: string }>();
if (!/^rtmps?:\/\//.test(options.url)) program.error('error: --url must be an rtmp:// or rtmps:// URL');
if (!/^\d{2,4}x\d{2,4}$/.test(options.size)) program.error('error: --size must look like 1280x720');

let ffmpeg: string;
try {
  ffmpeg = locateFfmpeg();
} catch (error) {
  if (error instanceof FfmpegNotFoundError) program.error(`error: ${error.message}`);
  throw error;
}

const fps = Number(options.fps);
const clock =
  "drawtext=fontsize=64:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=12:x=(w-tw)/2:y=h-th-48:" +
  "text='%{localtime\\:%H\\\\\\:%M\\\\\\:%S}  %{pts\\:hms}'";
const args = [
  '-hide_banner', '-loglevel', 'warning', '-stats',
  ...testPatternInputArgs({ size: options.size, fps, overlay: clock, beep: true }),
  ...(options.duration ? ['-t', String(options.duration)] : []),
  '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
  '-g', String(Math.round(fps * Number(options.gop))), '-b:v', '2500k', '-maxrate', '2500k', '-bufsize', '5000k',
  '-c:a', 'aac', '-b:a', '128k',
  // Without it the FLV muxer warns at every stop that it cannot seek back into a live stream.
  '-f', 'flv', '-flvflags', 'no_duration_filesize', options.url,
];
console.log(`publishing a ${options.size} test pattern to ${options.url}${options.duration ? ` for ${options.duration} s` : ' (Ctrl-C stops)'}`);
const publisher = new FfmpegPublisher(ffmpeg, args);
// A Ctrl-C reaches us more than once (the terminal signals npm, its shell and us; npm and
// scripts/node24.mjs forward it), `timeout` and `kill` send SIGTERM: each is the same request,
// and ffmpeg, in a process group of its own, hears it from us alone, once, as its "q" key.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => publisher.stop());
const outcome = await publisher.finished;
if (outcome.kind !== 'done') {
  console.error(describeFailure(outcome, options.url));
  process.exit(1);
}
