/**
 * The sidecar's encoder ffmpegs: its ffmpeg children, leaving out the short-lived thumbnail ones
 * (one keyframe to JPEG, `-f image2pipe`, a fraction of a second every 10 s per stream), which a
 * check of "which ffmpeg encodes this stream" must not count or kill.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export function encoderFfmpegChildren(sidecarPid: number): number[] {
  let pids: number[];
  try {
    pids = execFileSync('pgrep', ['-P', String(sidecarPid), 'ffmpeg'], { encoding: 'utf8' }).trim().split('\n').map(Number);
  } catch {
    // pgrep exits 1 when there are none.
    return [];
  }
  return pids.filter((pid) => {
    try {
      return !readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('image2pipe');
    } catch {
      // Exited meanwhile (a thumbnail ffmpeg, or one being replaced): not there.
      return false;
    }
  });
}
