import { parseM3u8 } from '../../helpers/m3u8.ts';
import { describe, expect, it } from 'vitest';
import { renderMultivariantPlaylist } from '../../../shared/hls/multivariant-playlist.ts';

describe('multivariant playlist', () => {
  const text = renderMultivariantPlaylist({
    audio: [{ groupId: 'audio', name: 'audio', uri: 'audio/index.m3u8', channels: 2, isDefault: true }],
    variants: [
      {
        uri: 'source/index.m3u8',
        bandwidth: 2_834_567.4,
        averageBandwidth: 2_500_000,
        codecs: ['avc1.64001f', 'mp4a.40.2'],
        resolution: { width: 1280, height: 720 },
        frameRate: 30,
        audioGroupId: 'audio',
      },
    ],
  });

  it('lists the variant with its measured bandwidth, codecs, resolution and audio group', () => {
    const manifest = parseM3u8(text);
    const [variant] = manifest.playlists!;
    expect(variant!.uri).toBe('source/index.m3u8');
    expect(variant!.attributes).toMatchObject({
      BANDWIDTH: 2834567,
      'AVERAGE-BANDWIDTH': '2500000',
      CODECS: 'avc1.64001f,mp4a.40.2',
      RESOLUTION: { width: 1280, height: 720 },
      'FRAME-RATE': 30,
      AUDIO: 'audio',
    });
    expect(manifest.mediaGroups!.AUDIO!.audio!.audio).toMatchObject({ uri: 'audio/index.m3u8', default: true, autoselect: true });
  });

  it('refuses attribute values that would break the playlist', () => {
    expect(() =>
      renderMultivariantPlaylist({ audio: [{ groupId: 'a"b', name: 'x', uri: 'x', isDefault: true }], variants: [] }),
    ).toThrow(/cannot hold/);
  });
});
