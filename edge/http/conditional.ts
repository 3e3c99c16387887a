/** Conditional requests: If-None-Match against an entity tag (weak comparison, RFC 9110 13.1.2). Pure. */

function opaque(tag: string): string {
  return tag.trim().replace(/^W\//, '');
}

/** True when the client's copy is current: answer 304. `etag` is the full header value, quotes included. */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const current = opaque(etag);
  return header.split(',').some((candidate) => opaque(candidate) === current);
}
