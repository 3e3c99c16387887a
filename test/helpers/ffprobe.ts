/** Decodes media with ffprobe, as a check that bytes are playable, not merely well-formed. */
import { spawn } from 'node:child_process';

export interface ProbeResult {
  codecType: string;
  codecName: string;
  decodedFrames: number;
}

/** What ffprobe printed for `args` with `bytes` on its stdin. */
export function runFfprobe(args: readonly string[], bytes: Uint8Array): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffprobe', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk));
    child.stdin.on('error', () => {});
    child.stdin.end(bytes);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/** Decodes every frame of the first stream in `bytes` (init segment + media segments). */
export async function probeDecode(bytes: Uint8Array): Promise<ProbeResult> {
  const args = ['-v', 'error', '-count_frames', '-select_streams', '0', '-show_entries', 'stream=codec_type,codec_name,nb_read_frames', '-of', 'json', '-i', 'pipe:0'];
  const { code, out, err } = await runFfprobe(args, bytes);
  if (code !== 0 || err.trim()) throw new Error(`ffprobe failed (${code}): ${err.trim()}`);
  const stream = (JSON.parse(out) as { streams: { codec_type: string; codec_name: string; nb_read_frames: string }[] }).streams[0];
  if (!stream) throw new Error('ffprobe found no stream');
  return { codecType: stream.codec_type, codecName: stream.codec_name, decodedFrames: Number(stream.nb_read_frames) };
}

/** The codec and picture size of the first video stream (or picture) in `bytes`, as ffprobe reads them. */
export async function probePicture(bytes: Uint8Array): Promise<{ codec: string; width: number; height: number }> {
  const { code, out, err } = await runFfprobe(['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0', '-i', 'pipe:0'], bytes);
  if (code !== 0) throw new Error(`ffprobe could not read the picture (${code}): ${err.trim()}`);
  const [codec, width, height] = out.trim().split(',');
  return { codec: codec!, width: Number(width), height: Number(height) };
}
