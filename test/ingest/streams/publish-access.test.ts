import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PublishAccess } from '../../../ingest/streams/publish-access.ts';
import { newStreamKey, StreamStore } from '../../../ingest/streams/stream-store.ts';

const store = new StreamStore(join(mkdtempSync(join(tmpdir(), 'access-')), 'streams.json'));
const { stream, key } = store.add('main');

describe('publish access', () => {
  it.each([
    { mode: 'keyed' as const, name: 'the stream key', input: key, expected: { streamId: stream.playbackId, label: 'main', playback: 'public', credential: stream.keySha256 } },
    { mode: 'keyed' as const, name: 'a wrong key', input: newStreamKey(), expected: { refuse: 'unknown stream key' } },
    { mode: 'keyed' as const, name: 'a plain name', input: 'colors', expected: { refuse: 'unknown stream key' } },
    { mode: 'open' as const, name: 'a plain name (it is the id)', input: 'colors', expected: { streamId: 'colors', label: 'colors', playback: 'public' } },
    { mode: 'open' as const, name: 'a configured key (its playback id)', input: key, expected: { streamId: stream.playbackId, label: 'main', playback: 'public', credential: stream.keySha256 } },
    { mode: 'open' as const, name: 'an unknown key (never a public id)', input: newStreamKey(), expected: { refuse: 'unknown stream key' } },
    { mode: 'open' as const, name: 'an overlong name', input: 'a'.repeat(10_000), expected: { refuse: expect.stringMatching(/1-64/) } },
  ])('$mode mode, $name', ({ mode, input, expected }) => {
    expect(new PublishAccess(mode, store).resolve(input)).toEqual(expected);
  });
});
