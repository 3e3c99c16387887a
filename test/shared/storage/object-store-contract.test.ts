/** One contract, every ObjectStore: in memory, on the filesystem, and over S3 against a real S3 server. */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FilesystemObjectStore, FOLDER_TYPES_FILE } from '../../../shared/storage/filesystem-object-store.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import { putChunks, type ObjectStore } from '../../../shared/storage/object-store.ts';
import { S3ObjectStore } from '../../../shared/storage/s3-object-store.ts';
import { startS3Server, type TestS3Server } from '../../helpers/s3-server.ts';

let s3: TestS3Server;
beforeAll(async () => {
  s3 = await startS3Server();
});
afterAll(() => s3.close());

const stores: { name: string; make: () => ObjectStore }[] = [
  { name: 'memory', make: () => new MemoryObjectStore() },
  { name: 'filesystem', make: () => new FilesystemObjectStore(mkdtempSync(join(tmpdir(), 'fs-store-'))) },
  {
    name: 'S3 (s3rver)',
    make: () => new S3ObjectStore({ endpoint: s3.endpoint, bucket: s3.bucket, region: 'auto', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }),
  },
];

const segment = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) % 256);
const text = async (body: ReadableStream<Uint8Array>) => new Uint8Array(await new Response(body).arrayBuffer());

describe.each(stores)('ObjectStore contract: $name', ({ make }) => {
  it('stores bytes with their content type, and reads them back whole', async () => {
    const store = make();
    await store.put('streams/colors/source/abcdefgh1-0.m4s', segment, { contentType: 'video/mp4' });
    const object = (await store.get('streams/colors/source/abcdefgh1-0.m4s'))!;
    expect(object).toMatchObject({ size: 5000, contentType: 'video/mp4' });
    expect(object.etag).not.toBe('');
    expect(await text(object.body)).toEqual(segment);
  });

  it('stores a list of chunks (a segment as its parts) as their bytes end to end', async () => {
    const store = make();
    // Pieces of differing sizes, one empty, each a view into a larger buffer.
    const cuts = [0, 1, 1, 1700, 4999, 5000];
    const chunks = cuts.slice(1).map((end, i) => segment.subarray(cuts[i]!, end));
    await putChunks(store, 'streams/colors/source/abcdefgh1-2.m4s', chunks, { contentType: 'video/mp4' });
    const object = (await store.get('streams/colors/source/abcdefgh1-2.m4s'))!;
    expect(object).toMatchObject({ size: 5000, contentType: 'video/mp4' });
    expect(await text(object.body)).toEqual(segment);
  });

  it('reads one byte range, reporting the whole size', async () => {
    const store = make();
    await store.put('streams/colors/source/abcdefgh1-1.m4s', segment, { contentType: 'video/mp4' });
    const object = (await store.get('streams/colors/source/abcdefgh1-1.m4s', { offset: 1000, length: 24 }))!;
    expect(object.size).toBe(5000);
    expect(await text(object.body)).toEqual(segment.subarray(1000, 1024));
  });

  it('answers head without the bytes, and null for what does not exist', async () => {
    const store = make();
    await store.put('streams/colors/index.m3u8', '#EXTM3U\n', { contentType: 'application/vnd.apple.mpegurl' });
    expect(await store.head('streams/colors/index.m3u8')).toMatchObject({ size: 8, contentType: 'application/vnd.apple.mpegurl' });
    expect(await store.head('streams/colors/missing.m3u8')).toBeNull();
    expect(await store.get('streams/colors/missing.m3u8')).toBeNull();
  });

  it('replaces an object, with a new entity tag', async () => {
    const store = make();
    await store.put('streams/colors/source/index.m3u8', '#EXTM3U\n#1\n', { contentType: 'application/vnd.apple.mpegurl' });
    const before = (await store.head('streams/colors/source/index.m3u8'))!.etag;
    await store.put('streams/colors/source/index.m3u8', '#EXTM3U\n#2\n', { contentType: 'application/vnd.apple.mpegurl' });
    const after = (await store.get('streams/colors/source/index.m3u8'))!;
    expect(after.etag).not.toBe(before);
    expect(new TextDecoder().decode(await text(after.body))).toBe('#EXTM3U\n#2\n');
  });

  it('lists the folders right under a prefix, in order, up to a limit', async () => {
    const store = make();
    for (const key of ['streams/list-b/index.m3u8', 'streams/list-a/source/index.m3u8', 'streams/list-a/status.json', 'streams/list-c/status.json', 'other/x/y']) {
      await store.put(key, 'x', { contentType: 'application/json' });
    }
    const children = (await store.listChildren!('streams/', 1000)).filter((name) => name.startsWith('list-'));
    expect(children).toEqual(['list-a', 'list-b', 'list-c']);
    expect(await store.listChildren!('streams/list-a/', 10)).toEqual(['source']);
    expect(await store.listChildren!('nothing-here/', 10)).toEqual([]);
  });

  it('lists page by page after a folder, in the order of the folders\' keys', async () => {
    const store = make();
    // "page-a-b/" sorts before "page-a/" ("-" before "/"); "page-a0" and "page-a_" after it.
    for (const name of ['page-a', 'page-a-b', 'page-a0', 'page-a_', 'page-b']) {
      await store.put(`pages/${name}/status.json`, 'x', { contentType: 'application/json' });
      await store.put(`pages/${name}/source/index.m3u8`, 'x', { contentType: 'application/json' });
    }
    expect(await store.listChildren!('pages/', 10)).toEqual(['page-a-b', 'page-a', 'page-a0', 'page-a_', 'page-b']);
    expect(await store.listChildren!('pages/', 2, 'page-a-b')).toEqual(['page-a', 'page-a0']);
    expect(await store.listChildren!('pages/', 10, 'page-a0')).toEqual(['page-a_', 'page-b']);
    expect(await store.listChildren!('pages/', 10, 'page-b')).toEqual([]);
    // A cursor that names no folder lists from where it would be.
    expect(await store.listChildren!('pages/', 10, 'page-aa')).toEqual(['page-b']);
  });

  it('deletes an object, and deleting what is already gone is fine', async () => {
    const store = make();
    await store.put('streams/colors/source/abcdefgh1-2.m4s', segment, { contentType: 'video/mp4' });
    await store.put('streams/colors/source/abcdefgh1-3.m4s', segment, { contentType: 'video/mp4' });
    await store.delete('streams/colors/source/abcdefgh1-2.m4s');
    expect(await store.head('streams/colors/source/abcdefgh1-2.m4s')).toBeNull();
    expect(await store.get('streams/colors/source/abcdefgh1-2.m4s')).toBeNull();
    expect(await store.head('streams/colors/source/abcdefgh1-3.m4s')).not.toBeNull();
    await store.delete('streams/colors/source/abcdefgh1-2.m4s');
  });
});

describe('S3 request signing', () => {
  it("matches AWS's published SigV4 example (GET Object with a Range header)", async () => {
    // docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html, "Example: GET Object".
    const store = new S3ObjectStore({
      endpoint: 'https://s3.amazonaws.com',
      bucket: 'examplebucket',
      region: 'us-east-1',
      pathStyle: false,
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    });
    const request = await store.signedRequest('GET', 'test.txt', { headers: { range: 'bytes=0-9' }, datetime: '20130524T000000Z' });
    expect(request.url).toBe('https://examplebucket.s3.amazonaws.com/test.txt');
    const authorization = request.headers.get('authorization')!;
    expect(authorization).toContain('Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request');
    expect(authorization).toContain('SignedHeaders=host;range;x-amz-content-sha256;x-amz-date');
    expect(authorization).toContain('Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
  });

  it('addresses objects path-style by default, encoding each key segment', () => {
    const store = new S3ObjectStore({ endpoint: 'https://acct.r2.cloudflarestorage.com', bucket: 'media', region: 'auto', accessKeyId: 'a', secretAccessKey: 'b' });
    expect(store.objectUrl('streams/colors/source/index.m3u8')).toBe('https://acct.r2.cloudflarestorage.com/media/streams/colors/source/index.m3u8');
  });
});

describe('filesystem store', () => {
  it('refuses keys that resolve outside its folder', async () => {
    const store = new FilesystemObjectStore(mkdtempSync(join(tmpdir(), 'fs-store-')));
    await expect(store.put('../escape.m3u8', 'x', { contentType: 'application/vnd.apple.mpegurl' })).rejects.toThrow(/outside the store/);
    await expect(store.get('/etc/passwd')).rejects.toThrow(/outside the store/);
  });

  it('writes into a folder removed since its last write (it remembers folders it made), and keeps a changed content type', async () => {
    const root = mkdtempSync(join(tmpdir(), 'fs-store-'));
    const store = new FilesystemObjectStore(root);
    await store.put('streams/colors/source/index.m3u8', '#EXTM3U\n', { contentType: 'application/vnd.apple.mpegurl' });
    rmSync(join(root, 'streams'), { recursive: true });
    await store.put('streams/colors/source/index.m3u8', '#EXTM3U\n#2\n', { contentType: 'application/vnd.apple.mpegurl' });
    expect(await store.head('streams/colors/source/index.m3u8')).toMatchObject({ size: 11, contentType: 'application/vnd.apple.mpegurl' });
    await store.put('streams/colors/source/index.m3u8', '{}', { contentType: 'application/json' });
    expect(await store.head('streams/colors/source/index.m3u8')).toMatchObject({ size: 2, contentType: 'application/json' });
    // A second store on the folder (another process) reads what the first wrote.
    expect(await new FilesystemObjectStore(root).head('streams/colors/source/index.m3u8')).toMatchObject({ size: 2, contentType: 'application/json' });
    const other = await new FilesystemObjectStore(root).get('streams/colors/source/index.m3u8');
    expect(other).toMatchObject({ size: 2, contentType: 'application/json', etag: (await store.head('streams/colors/source/index.m3u8'))!.etag });
    expect(new TextDecoder().decode(await text(other!.body))).toBe('{}');
  });

  it('reads an object whole or streamed (ranges) with the same size and tag; an object deleted by another store is gone', async () => {
    const root = mkdtempSync(join(tmpdir(), 'fs-store-'));
    const store = new FilesystemObjectStore(root);
    await store.put('streams/colors/source/abcdefgh1-3.m4s', segment, { contentType: 'video/mp4' });
    const whole = (await store.get('streams/colors/source/abcdefgh1-3.m4s'))!;
    const ranged = (await store.get('streams/colors/source/abcdefgh1-3.m4s', { offset: 10, length: 20 }))!;
    expect(await text(whole.body)).toEqual(segment);
    expect(await text(ranged.body)).toEqual(segment.subarray(10, 30));
    expect([whole.size, whole.etag, whole.contentType]).toEqual([segment.byteLength, ranged.etag, 'video/mp4']);
    await new FilesystemObjectStore(root).delete('streams/colors/source/abcdefgh1-3.m4s');
    expect(await store.get('streams/colors/source/abcdefgh1-3.m4s')).toBeNull();
    expect(await store.head('streams/colors/source/abcdefgh1-3.m4s')).toBeNull();
  });

  const HLS = 'application/vnd.apple.mpegurl';
  /** What a fresh store (another process) says each key's type is. */
  const typesFromDisk = async (root: string, keys: string[]) => {
    const reader = new FilesystemObjectStore(root);
    return Promise.all(keys.map(async (key) => (await reader.head(key))?.contentType));
  };

  it("keeps a rendition folder's types in one file: no metadata file beside each segment", async () => {
    const root = mkdtempSync(join(tmpdir(), 'fs-store-'));
    const store = new FilesystemObjectStore(root);
    const keys = ['streams/colors/source/init-a.mp4', 'streams/colors/source/a-1.m4s', 'streams/colors/source/a-2.m4s', 'streams/colors/source/index.m3u8'];
    await Promise.all(keys.map((key) => store.put(key, key.endsWith('.m3u8') ? '#EXTM3U\n' : segment, { contentType: key.endsWith('.m3u8') ? HLS : 'video/mp4' })));
    await store.put('streams/colors/audio/a-1.m4s', segment, { contentType: 'audio/mp4' });
    expect(readdirSync(join(root, 'streams/colors/source')).sort()).toEqual([FOLDER_TYPES_FILE, 'a-1.m4s', 'a-2.m4s', 'index.m3u8', 'init-a.mp4']);
    expect(JSON.parse(readFileSync(join(root, 'streams/colors/source', FOLDER_TYPES_FILE), 'utf8'))).toEqual({ '.mp4': 'video/mp4', '.m4s': 'video/mp4', '.m3u8': HLS });
    expect(await typesFromDisk(root, [...keys, 'streams/colors/audio/a-1.m4s'])).toEqual(['video/mp4', 'video/mp4', 'video/mp4', HLS, 'audio/mp4']);
  });

  it("types each file beside it once an extension's files differ in a folder, the earlier ones too", async () => {
    const root = mkdtempSync(join(tmpdir(), 'fs-store-'));
    const store = new FilesystemObjectStore(root);
    await store.put('streams/colors/mixed/a.m4s', segment, { contentType: 'video/mp4' });
    await store.put('streams/colors/mixed/b.m4s', segment, { contentType: 'video/mp4' });
    await store.put('streams/colors/mixed/c.m4s', segment, { contentType: 'audio/mp4' });
    await store.put('streams/colors/mixed/d.m4s', segment, { contentType: 'video/mp4' });
    expect(await typesFromDisk(root, ['a', 'b', 'c', 'd'].map((name) => `streams/colors/mixed/${name}.m4s`))).toEqual(['video/mp4', 'video/mp4', 'audio/mp4', 'video/mp4']);
  });

  it('reads and keeps writing metadata files in a folder an earlier version wrote (no types file there)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'fs-store-'));
    const folder = join(root, 'streams/colors/source');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'old.m4s'), segment);
    writeFileSync(join(folder, 'old.m4s.meta.json'), JSON.stringify({ contentType: 'video/mp4' }));
    await new FilesystemObjectStore(root).put('streams/colors/source/new.m4s', segment, { contentType: 'audio/mp4' });
    expect(readdirSync(folder)).not.toContain(FOLDER_TYPES_FILE);
    expect(await typesFromDisk(root, ['streams/colors/source/old.m4s', 'streams/colors/source/new.m4s'])).toEqual(['video/mp4', 'audio/mp4']);
  });

  it('serves what another process adds to a folder after it read the folder (a sidecar writing, the edge reading)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'fs-store-'));
    const writer = new FilesystemObjectStore(root);
    const reader = new FilesystemObjectStore(root);
    await writer.put('streams/colors/source/index.m3u8', '#EXTM3U\n', { contentType: HLS });
    expect((await reader.head('streams/colors/source/index.m3u8'))?.contentType).toBe(HLS);
    await writer.put('streams/colors/source/a-1.m4s', segment, { contentType: 'video/mp4' });
    expect((await reader.get('streams/colors/source/a-1.m4s'))?.contentType).toBe('video/mp4');
  });

  it('gives every replacement of an object a new entity tag, however fast they come', async () => {
    const store = new FilesystemObjectStore(mkdtempSync(join(tmpdir(), 'fs-store-')));
    const tags = new Set<string>();
    for (let version = 0; version < 50; version++) {
      await store.put('streams/colors/source/index.m3u8', `#EXTM3U\n#${version % 10}\n`, { contentType: 'application/vnd.apple.mpegurl' });
      tags.add((await store.head('streams/colors/source/index.m3u8'))!.etag);
    }
    expect(tags.size).toBe(50);
  });
});
