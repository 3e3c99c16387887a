/** What every edge adapter takes from its environment: the shared settings, and the Deno edge's bucket. */
import { describe, expect, it } from 'vitest';
import { edgeDependencies } from '../../../edge/runtime/environment.ts';
import { s3SettingsFrom } from '../../../edge/runtime/s3-settings.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';

const assets = { hlsJsVersion: '1', hlsJsSource: '', dashJsVersion: '1', dashJsSource: '' };
const S3 = { S3_ENDPOINT: 'http://127.0.0.1:9000', S3_BUCKET: 'media', S3_ACCESS_KEY_ID: 'id', S3_SECRET_ACCESS_KEY: 'secret' };

describe('edgeDependencies', () => {
  it('takes the secrets and settings as set, and an empty one as unset (the write API, signed playback and the management API then refuse)', () => {
    const store = new MemoryObjectStore();
    const set = edgeDependencies({ INGEST_SECRET: 'i', PLAYBACK_SECRET: 'p', SEGMENT_BASE_URL: 'https://cdn.example.com/live/', ADMIN_TOKEN: 'a' }, { store, assets });
    expect(set).toMatchObject({ store, assets, ingestSecret: 'i', playbackSecret: 'p', segmentBaseUrl: 'https://cdn.example.com/live/', adminToken: 'a' });
    const empty = edgeDependencies({ INGEST_SECRET: '', PLAYBACK_SECRET: '', SEGMENT_BASE_URL: '', ADMIN_TOKEN: '' }, { store, assets });
    expect([empty.ingestSecret, empty.playbackSecret, empty.segmentBaseUrl, empty.adminToken]).toEqual([undefined, undefined, undefined, undefined]);
  });
});

describe('s3SettingsFrom (the Deno edge)', () => {
  it.each([
    { name: 'no endpoint', env: { ...S3, S3_ENDPOINT: undefined }, missing: 'S3_ENDPOINT' },
    { name: 'an empty bucket', env: { ...S3, S3_BUCKET: '' }, missing: 'S3_BUCKET' },
    { name: 'no secret key', env: { ...S3, S3_SECRET_ACCESS_KEY: undefined }, missing: 'S3_SECRET_ACCESS_KEY' },
  ])('refuses $name, naming the variable and all four it needs', ({ env, missing }) => {
    const settings = s3SettingsFrom(env);
    expect(settings).toEqual({ ok: false, reason: `edge (Deno): set ${missing} (S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are needed)` });
  });

  it('defaults the region to auto and addresses the bucket by path unless S3_VIRTUAL_HOSTED=1', () => {
    expect(s3SettingsFrom(S3)).toEqual({ ok: true, options: { endpoint: S3.S3_ENDPOINT, bucket: 'media', region: 'auto', accessKeyId: 'id', secretAccessKey: 'secret', pathStyle: true } });
    expect(s3SettingsFrom({ ...S3, S3_REGION: 'eu-west-1', S3_VIRTUAL_HOSTED: '1' })).toMatchObject({ ok: true, options: { region: 'eu-west-1', pathStyle: false } });
  });
});
