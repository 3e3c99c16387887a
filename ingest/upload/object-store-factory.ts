/** The ObjectStore the sidecar's configuration asks for, and how to name it in logs. */
import { resolve } from 'node:path';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { S3ObjectStore } from '../../shared/storage/s3-object-store.ts';
import type { StorageConfig } from '../config.ts';
import { EdgeObjectStore } from './edge-object-store.ts';
import { FilesystemObjectStore } from '../../shared/storage/filesystem-object-store.ts';

const TIMEOUT_MS = 10_000;

export function createObjectStore(storage: StorageConfig): ObjectStore {
  switch (storage.kind) {
    case 'edge':
      return new EdgeObjectStore({ baseUrl: storage.edgeUrl, secret: storage.secret, timeoutMs: TIMEOUT_MS });
    case 's3':
      return new S3ObjectStore({ ...storage, timeoutMs: TIMEOUT_MS });
    case 'fs':
      return new FilesystemObjectStore(storage.dir);
  }
}

/** Where the streams go, without any secret. */
export function describeStorage(storage: StorageConfig): string {
  switch (storage.kind) {
    case 'edge':
      return `edge write API at ${storage.edgeUrl}`;
    case 's3':
      return `S3 bucket ${storage.bucket} at ${storage.endpoint}`;
    case 'fs':
      return `folder ${resolve(storage.dir)}`;
  }
}
