/** Validation of the public identifiers that appear in URLs and storage keys. */

/** A stream's playback id (its public id) as it appears in `/live/ID/...` and in storage keys: safe in a path, never empty. */
export const PLAYBACK_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** A rendition name (one folder per rendition in a stream's prefix). */
export const RENDITION_PATTERN = /^[a-z0-9_]{1,16}$/;

/** The per-publish session token that keeps segment names unique forever. */
export const SESSION_PATTERN = /^[a-z0-9]{8,24}$/;

export function isPlaybackId(value: string): boolean {
  return PLAYBACK_ID_PATTERN.test(value);
}

export function isRenditionName(value: string): boolean {
  return RENDITION_PATTERN.test(value);
}

export function isSessionId(value: string): boolean {
  return SESSION_PATTERN.test(value);
}
