/**
 * A plain live reference for player checks: ffmpeg's own HLS and DASH muxers write the same test
 * pattern the publisher sends us into a folder, and a small static HTTP server serves it.
 *
 * Why ffmpeg's muxers and not nginx-rtmp: they need no system package or root (nginx-rtmp is an
 * apt install the bench does as root), start in milliseconds, write fMP4/CMAF segments like ours
 * (nginx-rtmp writes MPEG-TS), and the same ffmpeg also writes a live DASH MPD, so the DASH
 * players get a reference too (nginx-rtmp's DASH is a different packager again). What a player
 * does on this stream is what it does on plain, unremarkable HLS/DASH: its stalls here are the
 * machine's and the player's, not the server's.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { locateFfmpeg } from '../../ingest/transcode/ffmpeg-binary.ts';
import { TIME_PATH } from '../../shared/time-api.ts';
import { eventually, freePort } from './network.ts';
import { testPatternInputArgs, testPatternEncodeArgs } from '../../scripts/lib/ffmpeg-args.ts';

export interface ReferenceStream {
  origin: string;
  /** The HLS media playlist (audio and video muxed in one fMP4 track set), 2 s segments. */
  hlsUrl: string;
  /**
   * The same encode as plain HLS in segments of a third of a second (our parts' length): a player
   * plays it about as far behind live as a low-latency player plays ours, so a hiccup of the
   * machine or the source at the live edge reaches it too (the 2 s one plays 7-9 s behind).
   */
  shortSegmentHlsUrl: string;
  /** The live (dynamic) DASH MPD. */
  mpdUrl: string;
  /** What ffmpeg printed (errors only). */
  stderr(): string;
  stop(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.mpd': 'application/dash+xml',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
};

/** Serves `dir` read-only on 127.0.0.1, uncached (a live playlist changes), plus the clock at TIME_PATH for the MPD's UTCTiming. */
async function serveFolder(dir: string): Promise<{ server: Server; origin: string }> {
  const root = normalize(dir + sep);
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    if (path === TIME_PATH) {
      response.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end(new Date().toISOString());
      return;
    }
    const file = normalize(join(root, path));
    try {
      if (!file.startsWith(root) || !statSync(file).isFile()) throw new Error('not a file');
      // Read whole: ffmpeg renames finished files into place (temp_file), so a file seen is complete.
      let body = readFileSync(file);
      // ffmpeg 5.1 rounds a 1/3 s segment's target duration to 0, which no segment fits (the
      // EXTINF rounded must not exceed it, RFC 8216 4.3.3.1): served as 1, a valid plain playlist.
      if (extname(file) === '.m3u8') body = Buffer.from(body.toString('utf8').replace(/^#EXT-X-TARGETDURATION:0$/m, '#EXT-X-TARGETDURATION:1'));
      response.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache', 'content-length': body.length });
      response.end(body);
    } catch {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${port}` };
}

/**
 * Encodes the publisher's test pattern once (`size`, same encoder settings but a keyframe every
 * third of a second) and writes it with ffmpeg's HLS muxer twice (2 s fMP4 segments, 10 listed;
 * and 1/3 s segments, 30 listed) and DASH muxer (2 s segments, 10 in the window) at once (tee
 * muxer), for `seconds`. Resolves once the 2 s manifests list 3 segments.
 */
export async function startReferenceStream(dir: string, seconds: number, size: string): Promise<ReferenceStream> {
  mkdirSync(join(dir, 'hls'), { recursive: true });
  mkdirSync(join(dir, 'hls-short'), { recursive: true });
  mkdirSync(join(dir, 'dash'), { recursive: true });
  const { server, origin } = await serveFolder(dir);
  const hls = [
    'f=hls', 'hls_time=2', 'hls_list_size=10', 'hls_segment_type=fmp4',
    // temp_file: segments and playlist renamed into place when complete (never served half-written).
    'hls_flags=delete_segments+independent_segments+program_date_time+temp_file',
    `hls_segment_filename=${join(dir, 'hls', 'seg-%05d.m4s')}`,
  ].join(':');
  // Cut at every keyframe: a third of a second (10 frames at 30 fps, the GOP below); 10 s listed.
  const shortHls = [
    'f=hls', 'hls_time=0.3', 'hls_list_size=30', 'hls_segment_type=fmp4',
    'hls_flags=delete_segments+independent_segments+program_date_time+temp_file',
    `hls_segment_filename=${join(dir, 'hls-short', 'seg-%05d.m4s')}`,
  ].join(':');
  const dash = [
    'f=dash', 'seg_duration=2', 'window_size=10', 'extra_window_size=5', 'use_template=1', 'use_timeline=1',
    // Players read the clock from the server, as from ours: no public time server offline.
    // A colon in a tee slave's option value is unescaped twice (the slave list, then its options).
    `utc_timing_url=${`${origin}${TIME_PATH}`.replaceAll(':', '\\\\\\:')}`,
    'adaptation_sets=id=0,streams=v id=1,streams=a'.replaceAll(',', '\\,').replaceAll('=', '\\='),
  ].join(':');
  const args = [
    '-hide_banner', '-loglevel', 'error',
    ...testPatternInputArgs({ size }),
    '-t', String(seconds),
    ...testPatternEncodeArgs(),
    // A keyframe every third of a second, so the short segments can be cut there (the 2 s outputs
    // cut at every sixth); the publisher's own GOP is 2 s, the part boundaries the same thirds.
    '-g', '10', '-keyint_min', '10',
    // The tee muxer needs codec headers out of band (mp4-based outputs).
    '-flags', '+global_header',
    '-map', '0:v', '-map', '1:a',
    '-f', 'tee', `[${hls}]${join(dir, 'hls', 'index.m3u8')}|[${shortHls}]${join(dir, 'hls-short', 'index.m3u8')}|[${dash}]${join(dir, 'dash', 'manifest.mpd')}`,
  ];
  const child = spawn(locateFfmpeg(), args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  child.stdin!.on('error', () => {});
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.stdin!.end('q');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killer);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  const stream: ReferenceStream = { origin, hlsUrl: `${origin}/hls/index.m3u8`, shortSegmentHlsUrl: `${origin}/hls-short/index.m3u8`, mpdUrl: `${origin}/dash/manifest.mpd`, stderr: () => stderr, stop };
  try {
    await eventually('the reference HLS and DASH to list 3 segments', 30_000, async () => {
      if (child.exitCode !== null) throw new Error(`reference ffmpeg exited: ${stderr}`);
      const playlist = readFileSync(join(dir, 'hls', 'index.m3u8'), 'utf8');
      const mpd = readFileSync(join(dir, 'dash', 'manifest.mpd'), 'utf8');
      // The DASH muxer writes in step with the HLS muxer (one encode, tee): its MPD existing is enough.
      return (playlist.match(/^#EXTINF/gm)?.length ?? 0) >= 3 && mpd.includes('<SegmentTimeline') ? true : undefined;
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return stream;
}
