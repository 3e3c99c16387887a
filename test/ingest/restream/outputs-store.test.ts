import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { outputView } from '../../../ingest/restream/outputs-cli.ts';
import { PublishAccess } from '../../../ingest/streams/publish-access.ts';
import { StreamStore } from '../../../ingest/streams/stream-store.ts';

function store(): StreamStore {
  return new StreamStore(join(mkdtempSync(join(tmpdir(), 'outputs-')), 'streams.json'));
}

describe('restream outputs in the streams file', () => {
  it('adds outputs that the publish decision hands to the sidecar, and removes them', () => {
    const streams = store();
    const { key: streamKey } = streams.add('main');
    const youtube = streams.addOutput('main', 'rtmp://a.rtmp.youtube.com/live2', 'yt-key-1234');
    const twitch = streams.addOutput('main', 'rtmps://live.twitch.tv/app/', 'live_1_secret');
    expect(youtube.id).toMatch(/^out_[0-9a-f]{8}$/);
    const decision = new PublishAccess('keyed', streams).resolve(streamKey);
    expect(decision).toMatchObject({ outputs: [{ id: youtube.id, url: 'rtmp://a.rtmp.youtube.com/live2', key: 'yt-key-1234' }, { id: twitch.id, key: 'live_1_secret' }] });
    // What is shown of an output never holds its key; the file (mode 0600) keeps it.
    expect(JSON.stringify(outputView(twitch))).not.toContain('live_1_secret');
    expect(outputView(twitch).url).toBe('rtmps://live.twitch.tv/app/***');
    expect(statSync(streams.path).mode & 0o777).toBe(0o600);
    expect(readFileSync(streams.path, 'utf8')).toContain('live_1_secret');
    streams.removeOutput('main', youtube.id);
    expect(streams.find('main')?.outputs?.map((output) => output.id)).toEqual([twitch.id]);
    streams.removeOutput('main', twitch.id);
    expect(streams.find('main')?.outputs).toBeUndefined();
    expect(new PublishAccess('keyed', streams).resolve(streamKey)).not.toHaveProperty('outputs');
  });

  it('refuses what could not be published to, and more than 10 outputs', () => {
    const streams = store();
    streams.add('main');
    expect(() => streams.addOutput('main', 'http://example.com/live', 'k')).toThrow(/rtmp:\/\/ or rtmps:\/\//);
    expect(() => streams.addOutput('main', 'rtmp://user:pw@example.com/live', 'k')).toThrow(/credentials/);
    expect(() => streams.addOutput('main', 'rtmp://example.com/live', 'a key')).toThrow(/spaces/);
    expect(() => streams.addOutput('nope', 'rtmp://example.com/live', 'k')).toThrow(/no stream named/);
    for (let i = 0; i < 10; i++) streams.addOutput('main', 'rtmp://example.com/live', `k${i}`);
    expect(() => streams.addOutput('main', 'rtmp://example.com/live', 'k11')).toThrow(/at most 10/);
    expect(() => streams.removeOutput('main', 'out_00000000')).toThrow(/no output/);
  });
});
