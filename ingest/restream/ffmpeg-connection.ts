/**
 * A restream connection made of one ffmpeg that copies FLV from its stdin to the target
 * (`-c copy`: no decoding or encoding, as nginx-rtmp's `push`), RTMP and RTMPS alike. It is live
 * once ffmpeg has written the stream's header to the target (its "Output #0" line); its queue is
 * what ffmpeg has not read from its stdin yet. ffmpeg's lines can hold the publish URL with the
 * key: only the redacted last error line leaves this module (as the close reason).
 */
import { spawn } from 'node:child_process';
import type { ConnectionEvents, OutputConnection } from './restream-output.ts';
import { publishUrl, redact, type RestreamTarget } from './restream-target.ts';

/** A target that accepts nothing for this long fails the connection (ffmpeg's rw_timeout), microseconds. */
const READ_WRITE_TIMEOUT_US = 10_000_000;
/** How long a closed connection's ffmpeg may take to send what it holds, milliseconds. */
const CLOSE_GRACE_MS = 3_000;

/** `caFile`: PEM CAs an RTMPS target's certificate must chain to (default: the system's). */
export function restreamFfmpegArgs(url: string, options: { caFile?: string } = {}): string[] {
  // An RTMPS target's certificate and host name are verified (ffmpeg's default is not to): the
  // key must not go to whoever answers in its place.
  const tls = url.startsWith('rtmps:') ? ['-tls_verify', '1', ...(options.caFile ? ['-ca_file', options.caFile] : [])] : [];
  return [
    '-hide_banner', '-nostats', '-loglevel', 'info',
    '-f', 'flv', '-i', 'pipe:0',
    // Audio and video only: the publisher's script data (node-media-server forwards its
    // @setDataFrame) becomes a data stream without packets, which ffmpeg's interleaving would
    // wait for, holding media back for up to 10 s.
    '-map', '0:v?', '-map', '0:a?', '-c', 'copy',
    '-rw_timeout', String(READ_WRITE_TIMEOUT_US),
    ...tls,
    '-f', 'flv', '-flvflags', 'no_duration_filesize',
    url,
  ];
}

export function ffmpegConnector(ffmpegPath: string, options: { caFile?: string } = {}): (target: RestreamTarget, events: ConnectionEvents) => OutputConnection {
  return (target, events) => {
    const child = spawn(ffmpegPath, restreamFfmpegArgs(publishUrl(target), options), { stdio: ['pipe', 'ignore', 'pipe'] });
    let firstError = '';
    let buffered = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      buffered += text;
      const lines = buffered.split(/\r?\n|\r/);
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('Output #0')) events.onLive();
        // The first error says why (the last is ffmpeg's summary, "Conversion failed!").
        else if (!firstError && /error|failed|refused|unable|cannot|invalid|timed out|broken pipe|reset/i.test(line) && !line.startsWith('Conversion failed')) firstError = line.trim();
      }
    });
    // The target went away: ffmpeg exits and its stdin breaks; the exit says why.
    child.stdin.on('error', () => {});
    let closed = false;
    const close = (reason: string) => {
      if (closed) return;
      closed = true;
      events.onClosed(redact(reason, target.key).slice(0, 300));
    };
    child.on('error', (error) => close(`ffmpeg could not start: ${error.message}`));
    child.on('close', (code, signal) => close(firstError || `ffmpeg exited (${signal ?? `code ${code}`})`));
    return {
      write: (bytes) => {
        if (!child.stdin.destroyed) child.stdin.write(bytes);
      },
      get queuedBytes() {
        return child.stdin.writableLength;
      },
      close: () => {
        // The end of input lets ffmpeg send what it holds and end the publish properly; one that
        // does not exit soon (a target that takes nothing) is killed.
        closed = true;
        child.stdin.end();
        setTimeout(() => child.kill('SIGKILL'), CLOSE_GRACE_MS).unref();
      },
    };
  };
}
