/**
 * Restream target keys at rest. A target's key (YouTube's, Twitch's) must be sent by the sidecar as
 * given, so it cannot be hashed like our own stream keys; it is sealed instead: AES-256-GCM under a
 * key derived (HKDF-SHA256) from the edge's INGEST_SECRET, so a copy of the database (a D1 export,
 * a SQLite file) does not give the keys away. Each sealed key is bound to its output (the stream's
 * playback id and the output's id, as additional data): copied into another row, it does not open.
 * Web Crypto only: the same on Workers, Node and Deno.
 */
import { fromBase64Url, toBase64Url } from '../../shared/base64url.ts';

/** Seals and opens target keys; `binding` names the output a key belongs to. */
export interface TargetKeySeal {
  seal(key: string, binding: string): Promise<string>;
  /** The key, or undefined when it does not open (another secret, another output, damaged). */
  open(sealed: string, binding: string): Promise<string | undefined>;
}

// Fixed for the life of the format: a new derivation gets a new version (and a migration).
const HKDF_SALT = 'edge-live restream target keys';
const HKDF_INFO = 'v1';
const IV_BYTES = 12;

const encoder = new TextEncoder();

export function targetKeySeal(secret: string): TargetKeySeal {
  let derived: Promise<CryptoKey> | undefined;
  const key = () => (derived ??= deriveKey(secret));
  return {
    async seal(plain, binding) {
      const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
      const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: encoder.encode(binding) }, await key(), encoder.encode(plain)));
      const joined = new Uint8Array(IV_BYTES + sealed.byteLength);
      joined.set(iv);
      joined.set(sealed, IV_BYTES);
      return toBase64Url(joined);
    },
    async open(sealed, binding) {
      try {
        const bytes = fromBase64Url(sealed);
        if (!bytes || bytes.byteLength <= IV_BYTES) return undefined;
        const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: bytes.subarray(0, IV_BYTES), additionalData: encoder.encode(binding) }, await key(), bytes.subarray(IV_BYTES));
        return new TextDecoder().decode(plain);
      } catch {
        return undefined;
      }
    },
  };
}

async function deriveKey(secret: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', encoder.encode(secret), 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: encoder.encode(HKDF_SALT), info: encoder.encode(HKDF_INFO) }, material, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}
