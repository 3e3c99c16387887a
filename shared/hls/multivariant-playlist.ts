/** HLS multivariant playlists as data: a pure renderer. */

export interface AudioRendition {
  groupId: string;
  name: string;
  uri: string;
  channels?: number;
  isDefault: boolean;
}

export interface VariantStream {
  uri: string;
  /** Peak bits per second, as measured over the segments so far. */
  bandwidth: number;
  averageBandwidth?: number;
  /** RFC 6381 codec strings of every track the variant plays (video, and its audio group's). */
  codecs: string[];
  resolution?: { width: number; height: number };
  frameRate?: number;
  audioGroupId?: string;
}

export interface MultivariantPlaylist {
  audio: AudioRendition[];
  variants: VariantStream[];
}

const VERSION = 7;

function quoted(value: string): string {
  if (/["\r\n]/.test(value)) throw new Error(`HLS attribute cannot hold ${JSON.stringify(value)}`);
  return `"${value}"`;
}

export function renderMultivariantPlaylist(playlist: MultivariantPlaylist): string {
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${VERSION}`, '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (const audio of playlist.audio) {
    const attributes = [
      'TYPE=AUDIO',
      `GROUP-ID=${quoted(audio.groupId)}`,
      `NAME=${quoted(audio.name)}`,
      `DEFAULT=${audio.isDefault ? 'YES' : 'NO'}`,
      'AUTOSELECT=YES',
    ];
    if (audio.channels) attributes.push(`CHANNELS=${quoted(String(audio.channels))}`);
    attributes.push(`URI=${quoted(audio.uri)}`);
    lines.push(`#EXT-X-MEDIA:${attributes.join(',')}`);
  }
  for (const variant of playlist.variants) {
    const attributes = [`BANDWIDTH=${Math.round(variant.bandwidth)}`];
    if (variant.averageBandwidth) attributes.push(`AVERAGE-BANDWIDTH=${Math.round(variant.averageBandwidth)}`);
    attributes.push(`CODECS=${quoted(variant.codecs.join(','))}`);
    if (variant.resolution) attributes.push(`RESOLUTION=${variant.resolution.width}x${variant.resolution.height}`);
    if (variant.frameRate) attributes.push(`FRAME-RATE=${variant.frameRate.toFixed(3)}`);
    if (variant.audioGroupId) attributes.push(`AUDIO=${quoted(variant.audioGroupId)}`);
    lines.push(`#EXT-X-STREAM-INF:${attributes.join(',')}`);
    lines.push(variant.uri);
  }
  return lines.join('\n') + '\n';
}

export class MultivariantParseError extends Error {
  override name = 'MultivariantParseError';
}

/** Attribute list of an HLS tag (RFC 8216, 4.2): quoted strings may hold commas. */
function attributeList(text: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const match of text.matchAll(/([A-Z0-9-]+)=("[^"]*"|[^,]*)/g)) {
    const value = match[2]!;
    attributes.set(match[1]!, value.startsWith('"') ? value.slice(1, -1) : value);
  }
  return attributes;
}

/** Parses a multivariant playlist written by renderMultivariantPlaylist (tags it does not model are skipped). */
export function parseMultivariantPlaylist(text: string): MultivariantPlaylist {
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  if (lines[0] !== '#EXTM3U') throw new MultivariantParseError('not an HLS playlist: no #EXTM3U first line');
  const playlist: MultivariantPlaylist = { audio: [], variants: [] };
  let pending: Map<string, string> | undefined;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    if (line.startsWith('#EXT-X-MEDIA:')) {
      const attributes = attributeList(line.slice('#EXT-X-MEDIA:'.length));
      if (attributes.get('TYPE') !== 'AUDIO') continue;
      const uri = attributes.get('URI');
      const groupId = attributes.get('GROUP-ID');
      if (!uri || !groupId) throw new MultivariantParseError('#EXT-X-MEDIA audio rendition without URI or GROUP-ID');
      const channels = Number(attributes.get('CHANNELS'));
      playlist.audio.push({
        groupId,
        name: attributes.get('NAME') ?? groupId,
        uri,
        ...(Number.isFinite(channels) && channels > 0 ? { channels } : {}),
        isDefault: attributes.get('DEFAULT') === 'YES',
      });
    } else if (line.startsWith('#EXT-X-STREAM-INF:')) {
      pending = attributeList(line.slice('#EXT-X-STREAM-INF:'.length));
    } else if (!line.startsWith('#')) {
      if (!pending) throw new MultivariantParseError(`URI ${line} without #EXT-X-STREAM-INF`);
      const bandwidth = Number(pending.get('BANDWIDTH'));
      if (!Number.isFinite(bandwidth) || bandwidth <= 0) throw new MultivariantParseError(`variant ${line} without a BANDWIDTH`);
      const resolution = /^(\d+)x(\d+)$/.exec(pending.get('RESOLUTION') ?? '');
      const average = Number(pending.get('AVERAGE-BANDWIDTH'));
      const frameRate = Number(pending.get('FRAME-RATE'));
      playlist.variants.push({
        uri: line,
        bandwidth,
        ...(Number.isFinite(average) && average > 0 ? { averageBandwidth: average } : {}),
        codecs: (pending.get('CODECS') ?? '').split(',').filter(Boolean),
        ...(resolution ? { resolution: { width: Number(resolution[1]), height: Number(resolution[2]) } } : {}),
        ...(Number.isFinite(frameRate) && frameRate > 0 ? { frameRate } : {}),
        ...(pending.has('AUDIO') ? { audioGroupId: pending.get('AUDIO')! } : {}),
      });
      pending = undefined;
    }
  }
  return playlist;
}
