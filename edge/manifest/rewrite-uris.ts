/** Rewrites the URIs an HLS playlist lists (URI lines and URI="..." attributes). Pure, line by line. */

const URI_ATTRIBUTE = /URI="([^"]*)"/g;

export function rewritePlaylistUris(playlist: string, rewrite: (uri: string) => string): string {
  return playlist
    .split('\n')
    .map((line) => {
      if (line.startsWith('#')) return line.replace(URI_ATTRIBUTE, (_, uri: string) => `URI="${rewrite(uri)}"`);
      return line.trim() === '' ? line : rewrite(line.trim());
    })
    .join('\n');
}

function isRelativeReference(uri: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(uri) && !uri.startsWith('/');
}

/** Prefixes relative URIs with a path, so they resolve from a playlist served one level up. */
export function prefixRelativeUris(playlist: string, prefix: string): string {
  return rewritePlaylistUris(playlist, (uri) => (isRelativeReference(uri) ? prefix + uri : uri));
}
