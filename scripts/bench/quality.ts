/** Picture quality of a rendition against its source, as ffmpeg measures it. */
import { spawn } from 'node:child_process';

/**
 * SSIM (all planes) of a rendition against the source scaled to its size, frame n against
 * frame n: every rendition compared here has exactly the source's frames (frame-rate
 * passthrough), while the containers start their clocks differently (edit lists, B-frame delay).
 */
export function measureSsim(ffmpeg: string, rendition: string, source: string): Promise<number> {
  const graph = '[0:v]setpts=N/(30*TB)[d0];[1:v]setpts=N/(30*TB)[r0];[r0][d0]scale2ref=flags=bicubic[ref][dist];[dist][ref]ssim';
  const args = ['-hide_banner', '-i', rendition, '-i', source, '-lavfi', graph, '-f', 'null', '-'];
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk));
    child.on('close', () => {
      const match = /SSIM .*All:([\d.]+)/.exec(err);
      if (!match) return reject(new Error(`no SSIM for ${rendition}: ${err.slice(-300)}`));
      resolve(Number(match[1]));
    });
  });
}
