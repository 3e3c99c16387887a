/** Decodes media with ffprobe, as a check that bytes are playable, not merely well-formed. */
import { spawn } from 'node:child_process';

export interface ProbeResult {
  codecType: string;
  codecName: string;
  decodedFrames: number;
}

/** Decodes every frame of the first stream in `bytes` (init segment + media segments). */
export function probeDecode(bytes: Uint8Array): Promise<ProbeResult> {
  const args = ['-v', 'error', '-count_frames', '-select_streams', '0', '-show_entries', 'stream=codec_type,codec_name,nb_read_frames', '-of', 'json', '-i', 'pipe:0'];
  return new Promise((resolve, reject) => {
    const child = spawn('ffprobe', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk));
    child.stdin.on('error', () => {});
    child.stdin.end(bytes);
    child.on('close', (code) => {
      if (code !== 0 || err.trim()) return reject(new Error(`ffprobe failed (${code}): ${err.trim()}`));
      const stream = (JSON.parse(out) as { streams: { codec_type: string; codec_name: string; nb_read_frames: string }[] }).streams[0];
      if (!stream) return reject(new Error('ffprobe found no stream'));
      resolve({ codecType: stream.codec_type, codecName: stream.codec_name, decodedFrames: Number(stream.nb_read_frames) });
    });
  });
}
