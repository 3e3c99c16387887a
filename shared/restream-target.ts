/**
 * A restream output (issue 17 item 2) as configured, shared by the sidecar (ingest/restream/) and
 * the platform's registry (edge/platform/stream-outputs.ts): where to publish (an RTMP or RTMPS URL) and the target's stream
 * key. The key is a secret the sidecar must send as given, so it is kept, but nothing the sidecar
 * says (logs, status, errors) ever holds it: everything shown goes through `redactedUrl`/`redact`.
 */

export interface RestreamTarget {
  /** Stable id of the output within its stream (e.g. `out_3f9a1c2b`). */
  id: string;
  /** rtmp:// or rtmps:// up to the application, without the key, e.g. rtmp://a.rtmp.youtube.com/live2 */
  url: string;
  key: string;
}

export const MAX_OUTPUTS_PER_STREAM = 10;
const REDACTED = '***';

/** Why this output URL cannot be used, or undefined when it can. */
export function outputUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'the output URL is not a URL (expected rtmp://HOST/APP or rtmps://HOST/APP)';
  }
  if (parsed.protocol !== 'rtmp:' && parsed.protocol !== 'rtmps:') return 'the output URL must start with rtmp:// or rtmps://';
  if (!parsed.hostname) return 'the output URL has no host';
  if (parsed.username || parsed.password) return 'the output URL must not hold credentials (give the stream key separately)';
  if (/\s/.test(url)) return 'the output URL must not hold spaces';
  return undefined;
}

/** Why this stream key cannot be used, or undefined when it can. */
export function outputKeyProblem(key: string): string | undefined {
  if (key.length === 0 || key.length > 512) return 'the stream key must be 1-512 characters';
  if (/[\s\u0000-\u001f]/.test(key)) return 'the stream key must not hold spaces or control characters';
  return undefined;
}

/** The URL the target is published to: the key appended as the stream name (as OBS does). */
export function publishUrl(target: Pick<RestreamTarget, 'url' | 'key'>): string {
  return `${target.url.replace(/\/+$/, '')}/${target.key}`;
}

/** The URL as shown anywhere: the key replaced. */
export function redactedUrl(target: Pick<RestreamTarget, 'url'>): string {
  return `${target.url.replace(/\/+$/, '')}/${REDACTED}`;
}

/** Any text (an ffmpeg line, an error) with every form of the key in it replaced. */
export function redact(text: string, key: string): string {
  if (key.length === 0) return text;
  let out = text;
  for (const form of new Set([key, encodeURIComponent(key), encodeURI(key)])) out = out.split(form).join(REDACTED);
  return out;
}
