import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PublishAccess } from '../../../ingest/streams/publish-access.ts';
import { newStreamKey, StreamStore } from '../../../ingest/streams/stream-store.ts';

const newStore = () => new StreamStore(join(mkdtempSync(join(tmpdir(), 'access-')), 'streams.json'));
const store = newStore();
const { stream, key } = store.add('main');
const empty = newStore();

describe('publish access', () => {
  it.each([
    { mode: 'keyed' as const, name: 'the stream key', input: key, expected: { playbackId: stream.playbackId, name: 'main', playback: 'public', credential: stream.keySha256 } },
    { mode: 'keyed' as const, name: 'a wrong key', input: newStreamKey(), expected: { refuse: 'unknown stream key' } },
    { mode: 'keyed' as const, name: 'a plain name', input: 'colors', expected: { refuse: 'unknown stream key' } },
    { mode: 'keyed' as const, name: "a configured stream's playback id", input: stream.playbackId, expected: { refuse: 'unknown stream key' } },
  ])('$mode mode, $name', ({ mode, input, expected }) => {
    expect(new PublishAccess(mode, store).resolve(input)).toEqual(expected);
  });

  it.each([
    { name: 'a plain name (it is the id)', input: 'colors', expected: { playbackId: 'colors', name: 'colors', playback: 'public' } },
    { name: 'an unknown key (never a public id)', input: newStreamKey(), expected: { refuse: 'unknown stream key' } },
    { name: 'an overlong name', input: 'a'.repeat(10_000), expected: { refuse: expect.stringMatching(/1-64/) } },
  ])('open mode without configured streams, $name', ({ input, expected }) => {
    expect(new PublishAccess('open', empty).resolve(input)).toEqual(expected);
  });

  it('is not open when asked for open mode beside configured streams: a playback id never publishes without its key', () => {
    const access = new PublishAccess('open', store);
    expect(access.mode).toBe('keyed');
    expect(access.resolve(stream.playbackId)).toEqual({ refuse: 'unknown stream key' });
    expect(access.resolve('colors')).toEqual({ refuse: 'unknown stream key' });
    expect(access.resolve(key)).toMatchObject({ playbackId: stream.playbackId, credential: stream.keySha256 });
  });

  it('leaves open mode for good, once, when a stream is configured while it runs', () => {
    const streams = newStore();
    const ended: number[] = [];
    const access = new PublishAccess('open', streams, { onOpenModeEnded: (count) => ended.push(count) });
    expect(access.resolve('colors')).toMatchObject({ playbackId: 'colors' });
    const vip = streams.add('vip', new Date(), 'signed');
    expect(access.resolve(vip.stream.playbackId)).toEqual({ refuse: 'unknown stream key' });
    expect(access.resolve('colors')).toEqual({ refuse: 'unknown stream key' });
    expect(access.mode).toBe('keyed');
    // Removing the stream again does not reopen it.
    streams.remove('vip');
    expect(access.refreshMode()).toBe('keyed');
    expect(ended).toEqual([1]);
  });
});
