import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STREAM_KEY_PATTERN, StreamStore } from '../../../ingest/streams/stream-store.ts';
import { isPlaybackId } from '../../../shared/playback-id.ts';

function freshStore(): StreamStore {
  return new StreamStore(join(mkdtempSync(join(tmpdir(), 'streams-')), 'streams.json'));
}

describe('stream store', () => {
  it('adds a stream with a random key and a public playback id, storing only the key hash', () => {
    const store = freshStore();
    const { stream, key } = store.add('main');
    expect(key).toMatch(STREAM_KEY_PATTERN);
    expect(isPlaybackId(stream.playbackId)).toBe(true);
    const file = readFileSync(store.path, 'utf8');
    expect(file).not.toContain(key);
    expect(file).toContain(stream.keySha256);
    expect(statSync(store.path).mode & 0o777).toBe(0o600);
    expect(store.findByKey(key)?.name).toBe('main');
  });

  it('finds nothing for a wrong, malformed or empty key', () => {
    const store = freshStore();
    const { key } = store.add('main');
    expect(store.findByKey(key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A'))).toBeUndefined();
    expect(store.findByKey('')).toBeUndefined();
    expect(store.findByKey(`${key}x`)).toBeUndefined();
    expect(store.findByKey('main')).toBeUndefined();
  });

  it('rotates a key: the old one stops working, the playback id stays', () => {
    const store = freshStore();
    const first = store.add('main');
    const second = store.rotateKey('main');
    expect(store.findByKey(first.key)).toBeUndefined();
    expect(store.findByKey(second.key)?.playbackId).toBe(first.stream.playbackId);
  });

  it('removes a stream and its key', () => {
    const store = freshStore();
    const { key } = store.add('main');
    store.add('backup');
    store.remove('main');
    expect(store.list().map((stream) => stream.name)).toEqual(['backup']);
    expect(store.findByKey(key)).toBeUndefined();
  });

  it.each([
    { name: 'a duplicate name', act: (store: StreamStore) => (store.add('main'), store.add('main')), error: /already exists/ },
    { name: 'an invalid name', act: (store: StreamStore) => store.add('../etc'), error: /stream names are/ },
    { name: 'an upper-case name', act: (store: StreamStore) => store.add('Main'), error: /stream names are/ },
    { name: 'rotating an unknown stream', act: (store: StreamStore) => store.rotateKey('nope'), error: /no stream named/ },
    { name: 'removing an unknown stream', act: (store: StreamStore) => store.remove('nope'), error: /no stream named/ },
  ])('refuses $name with a clear error', ({ act, error }) => {
    expect(() => act(freshStore())).toThrow(error);
  });

  it.each([
    { name: 'not JSON', content: '{', error: /not valid JSON/ },
    { name: 'a wrong version', content: '{"version":2,"streams":[]}', error: /unsupported version/ },
    { name: 'a bad playback id', content: '{"version":1,"streams":[{"name":"a","playbackId":"../x","keySha256":"' + '0'.repeat(64) + '"}]}', error: /playbackId is invalid/ },
    { name: 'a bad hash', content: '{"version":1,"streams":[{"name":"a","playbackId":"x","keySha256":"zz"}]}', error: /keySha256 is invalid/ },
  ])('reports a store file with $name, naming the file', ({ content, error }) => {
    const store = freshStore();
    writeFileSync(store.path, content);
    expect(() => store.list()).toThrow(error);
    expect(() => store.list()).toThrow(store.path);
  });

  it('treats a missing file as no streams', () => {
    expect(freshStore().list()).toEqual([]);
  });
});
