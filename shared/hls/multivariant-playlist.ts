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
