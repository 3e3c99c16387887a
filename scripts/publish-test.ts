/** `npm run publish:test`: publishes a 720p30 test pattern with a burnt-in clock and a tone. */
import { spawn } from 'node:child_process';
import { Command, InvalidArgumentError, Option } from 'commander';
import { locateFfmpeg, FfmpegNotFoundError } from '../ingest/transcode/ffmpeg-binary.ts';

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
  '-re',
  '-f', 'lavfi', '-i', `testsrc2=size=${options.size}:rate=${fps},${clock}`,
  '-f', 'lavfi', '-i', 'sine=frequency=1000:beep_factor=4:sample_rate=48000',
  ...(options.duration ? ['-t', String(options.duration)] : []),
  '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
  '-g', String(Math.round(fps * Number(options.gop))), '-b:v', '2500k', '-maxrate', '2500k', '-bufsize', '5000k',
  '-c:a', 'aac', '-b:a', '128k',
  '-f', 'flv', options.url,
];
console.log(`publishing a ${options.size} test pattern to ${options.url}${options.duration ? ` for ${options.duration} s` : ' (Ctrl-C stops)'}`);
const child = spawn(ffmpeg, args, { stdio: 'inherit' });
process.on('SIGINT', () => child.kill('SIGINT'));
child.on('exit', (code, signal) => {
  if (code !== 0 && signal !== 'SIGINT' && code !== 255) {
    console.error(`ffmpeg stopped with ${signal ?? `exit code ${code}`}: is the sidecar running (npm start) and the URL right?`);
    process.exit(1);
  }
  process.exit(0);
});
