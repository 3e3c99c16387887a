/** The edge's write API, as both sides know it: `PUT /_ingest/objects/<storage key>`, bearer credential. */
import { constantTimeEqual } from './constant-time.ts';
import { hmacSha256Base64Url } from './hmac.ts';

export const WRITE_API_PREFIX = '/_ingest/objects/';

/** Largest object the write API accepts: a 2 s segment of a high-bitrate source fits many times. */
export const WRITE_API_MAX_BYTES = 64 * 1024 * 1024;

/**
 * A write credential scoped to one stream: `w1.STREAM_ID.SIGNATURE`, the base64url HMAC-SHA256
 * of the stream id under the ingest secret. The sidecar sends these, never the secret itself, so
 * a credential seen on the wire writes one stream's prefix and nothing else.
 */
export async function streamWriteToken(secret: string, streamId: string): Promise<string> {
  return `w1.${streamId}.${await writeSignature(secret, streamId)}`;
}

/** The stream a bearer credential may write: `'*'` for the ingest secret itself, undefined when it is neither. */
export async function writeScope(secret: string, bearer: string): Promise<string | undefined> {
  if (constantTimeEqual(bearer, secret)) return '*';
  const match = /^w1\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{43})$/.exec(bearer);
  if (!match) return undefined;
  return constantTimeEqual(match[2]!, await writeSignature(secret, match[1]!)) ? match[1] : undefined;
}

function writeSignature(secret: string, streamId: string): Promise<string> {
  return hmacSha256Base64Url(secret, `write:v1:${streamId}`);
}
