/**
 * Stream keys and playback ids as the platform hands them out, with WebCrypto only (the edge on
 * Workers, Node and Deno; the sidecar and the CLI). A key is a secret shown once: only its
 * SHA-256 is stored, and the sidecar asks the edge with the hash, never the key. Keys are 256
 * random bits, so a fast hash is enough: there is nothing to brute-force.
 */
import { toBase64Url } from './base64url.ts';

/** Stream keys: a recognisable prefix, then 256 random bits (base64url). */
export const STREAM_KEY_PATTERN = /^sk_[A-Za-z0-9_-]{43}$/;

/** What the registry stores of a key: its SHA-256, lower-case hex. */
export const KEY_SHA256_PATTERN = /^[0-9a-f]{64}$/;

export function generateStreamKey(): string {
  return `sk_${toBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
}

/** 96 random bits as 19 lower-case base-36 characters: short in URLs, unguessable. */
export function generatePlaybackId(): string {
  const hex = [...crypto.getRandomValues(new Uint8Array(12))].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  return BigInt(`0x${hex}`).toString(36).padStart(19, '0');
}

export async function streamKeySha256(key: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(key)));
  return [...digest].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}
