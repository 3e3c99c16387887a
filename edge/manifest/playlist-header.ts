/** The header tags of a media playlist (before its first segment), read and set as lines. */

/** The value of a header tag such as `#EXT-X-MEDIA-SEQUENCE`, as a number. */
export function headerNumber(header: readonly string[], tag: string): number | undefined {
  const line = header.find((candidate) => candidate.startsWith(`${tag}:`));
  return line === undefined ? undefined : Number(line.slice(tag.length + 1));
}

/** Sets a header tag's value, adding the tag after the line starting with `after` (or at the end) when it is missing. */
export function setHeaderTag(header: string[], tag: string, value: string, after?: string): void {
  const index = header.findIndex((line) => line.startsWith(`${tag}:`));
  const line = `${tag}:${value}`;
  if (index >= 0) {
    header[index] = line;
    return;
  }
  const anchor = after === undefined ? -1 : header.findIndex((candidate) => candidate.startsWith(after));
  header.splice(anchor >= 0 ? anchor + 1 : header.length, 0, line);
}
