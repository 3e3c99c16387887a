/** Validators (ETags) of rewritten bodies: pure, from the stored object's validator and what the viewer's query changed. */
import type { PlaybackQuery } from '../../manifest/playback-rewrite.ts';

/** A rewritten body's validator: the stored object's, qualified by what changed it. */
export function derivedEtag(etag: string, variant: string): string {
  return variant === '' ? `"${etag}"` : `W/"${etag}-${variant}"`;
}

/** The parts of a viewer's query that change a manifest's body, as a short stable string (a token only as a digest: never in a header). */
export function querySignature(query: PlaybackQuery, alias: boolean): string {
  const parts = [alias ? 'alias' : '', query.token === undefined ? '' : `t${fnv1a(query.token)}`, query.maxHeight ?? '', query.dvrSeconds ?? ''];
  return parts.every((part) => part === '') ? '' : parts.join('.');
}

/** FNV-1a, 32 bits, hex: tells bodies apart; not a secret's protection (signed playlists carry no ETag at all). */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  return (hash >>> 0).toString(16);
}
