import { toBase64Url } from './base64url.ts';

/** HMAC-SHA256 with WebCrypto (Node, Workers and Deno alike), as base64url without padding. */
export async function hmacSha256Base64Url(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(message)));
  return toBase64Url(mac);
}
