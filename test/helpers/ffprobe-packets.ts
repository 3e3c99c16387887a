/** ffprobe's view of a stream's packets (timestamps, keyframe flag, payload hash): for frame-for-frame comparisons. */
import { runFfprobe } from './ffprobe.ts';

export interface ProbedPacket {
  /** Milliseconds (ffprobe's timestamps scaled by the stream's time base). */
  pts: number;
  dts: number;
  keyframe: boolean;
  size: number;
  hash: string;
}

/** The packets of the first `kind` stream in `bytes` (an FLV, or an init segment followed by media segments). */
export async function probePackets(bytes: Uint8Array, kind: 'video' | 'audio'): Promise<ProbedPacket[]> {
  const args = ['-v', 'error', '-select_streams', kind === 'video' ? 'v:0' : 'a:0', '-show_packets', '-show_data_hash', 'md5', '-show_entries', 'stream=time_base', '-of', 'json', '-i', 'pipe:0'];
  const { code, out, err } = await runFfprobe(args, bytes);
  if (code !== 0) throw new Error(`ffprobe failed (${code}): ${err.trim()}`);
  const parsed = JSON.parse(out) as {
    streams: { time_base: string }[];
    packets: { pts: number; dts: number; flags: string; size: string; data_hash: string }[];
  };
  const [numerator, denominator] = parsed.streams[0]!.time_base.split('/').map(Number) as [number, number];
  const ms = (ticks: number) => (ticks * numerator * 1000) / denominator;
  return parsed.packets.map((packet) => ({
    pts: ms(packet.pts),
    dts: ms(packet.dts),
    keyframe: packet.flags.startsWith('K'),
    size: Number(packet.size),
    hash: packet.data_hash,
  }));
}
