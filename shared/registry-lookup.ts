/**
 * The sidecar asks the platform's stream registry on the ingest channel: `POST
 * /_ingest/registry/lookup` with the SHA-256 of stream keys (never a key), authorized like the
 * write API by an HMAC token derived from the ingest secret (never the secret itself), scoped to
 * registry lookups and short-lived: `r1.EXPIRY.SIGNATURE`.
 */
import { constantTimeEqual } from './constant-time.ts';
import type { RestreamTarget } from './restream-target.ts';
import { hmacSha256Base64Url } from './hmac.ts';
import { WRITE_TOKEN_MAX_AHEAD_SECONDS, WRITE_TOKEN_TTL_SECONDS } from './write-api.ts';

export const REGISTRY_LOOKUP_PATH = '/_ingest/registry/lookup';

/** Key hashes asked at once at most (the live publishers of one sidecar are checked together). */
export const MAX_LOOKUP_KEYS = 500;

export interface LookupRequest {
  /** SHA-256 (hex) of stream keys; may be empty (then only `configured` is of interest). */
  keys: string[];
}

/** A configured stream as a sidecar needs it to decide a publish. */
export interface LookupStream {
  name: string;
  playbackId: string;
  playback: 'public' | 'signed';
  enabled: boolean;
  reconnectWindowSeconds: number | null;
  retention: 'window' | 'all' | null;
  /** Whether it records (README: Recordings); null: when its retention is `all`; absent: an edge from before recordings. */
  recording?: boolean | null;
  /** Days its recordings are kept (0: until deleted); absent: the sidecar's --recording-days. */
  recordingDays?: number | null;
  /** Where the stream is restreamed to, with the targets' keys (the sidecar sends them); absent: nowhere. */
  outputs?: RestreamTarget[];
}

export interface LookupResponse {
  /** How many streams the registry holds (0: a sidecar in open mode stays open). */
  configured: number;
  /** One per key asked, in order: the stream with that key hash, or null. */
  streams: (LookupStream | null)[];
}

const TOKEN_SHAPE = /^r1\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

function signature(secret: string, expiresAt: number): Promise<string> {
  return hmacSha256Base64Url(secret, `registry:v1:${expiresAt}`);
}

export async function registryLookupToken(secret: string, now: number = Date.now()): Promise<string> {
  const expiresAt = Math.floor(now / 1000) + WRITE_TOKEN_TTL_SECONDS;
  return `r1.${expiresAt}.${await signature(secret, expiresAt)}`;
}

export async function checkRegistryLookupToken(secret: string, bearer: string, now: number): Promise<{ ok: true } | { ok: false; reason: string }> {
  const shape = TOKEN_SHAPE.exec(bearer);
  if (!shape) return { ok: false, reason: 'expected a registry lookup token (r1.…) made from the ingest secret' };
  const expiry = Number(shape[1]);
  if (!constantTimeEqual(shape[2]!, await signature(secret, expiry))) return { ok: false, reason: 'wrong ingest secret' };
  const nowSeconds = now / 1000;
  if (expiry <= nowSeconds) return { ok: false, reason: 'registry lookup token expired: check the sidecar\'s clock against the edge\'s' };
  if (expiry > nowSeconds + WRITE_TOKEN_MAX_AHEAD_SECONDS) return { ok: false, reason: 'registry lookup token expires too far ahead: check the sidecar\'s clock' };
  return { ok: true };
}
