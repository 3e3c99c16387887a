/**
 * ObjectStore on a local folder: for development without an edge, and for serving from disk.
 * Each object is a file (written to a temporary name, then renamed: readers never see half an
 * object) with its content type in a small `.meta.json` beside it.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { byFolderKey, type ByteRange, type ObjectMetadata, type ObjectStore, type PutOptions, type StoredObject } from './object-store.ts';

interface FileMetadata {
  contentType: string;
  etag: string;
}

export class FilesystemObjectStore implements ObjectStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** The file of a key, refusing any key that would resolve outside the root. */
  private path(key: string): string {
    const path = resolve(this.root, key);
    if (!path.startsWith(this.root + sep) || key.includes('\0')) throw new Error(`key outside the store: ${JSON.stringify(key)}`);
    return path;
  }

  async put(key: string, body: Uint8Array | string, options: PutOptions): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const metadata: FileMetadata = { contentType: options.contentType, etag: createHash('sha256').update(bytes).digest('hex').slice(0, 32) };
    const temporary = join(dirname(path), `.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
    await writeFile(temporary, bytes);
    await writeFile(`${temporary}.meta`, JSON.stringify(metadata));
    // Metadata first: a reader that finds the object finds its metadata too.
    await rename(`${temporary}.meta`, `${path}.meta.json`);
    await rename(temporary, path);
  }

  async head(key: string): Promise<ObjectMetadata | null> {
    const path = this.path(key);
    try {
      const [info, metadata] = await Promise.all([stat(path), readFile(`${path}.meta.json`, 'utf8')]);
      const parsed = JSON.parse(metadata) as FileMetadata;
      return { size: info.size, etag: parsed.etag, contentType: parsed.contentType };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async get(key: string, range?: ByteRange): Promise<StoredObject | null> {
    const metadata = await this.head(key);
    if (!metadata) return null;
    const stream = createReadStream(this.path(key), range ? { start: range.offset, end: range.offset + range.length - 1 } : {});
    return { ...metadata, body: Readable.toWeb(stream) as ReadableStream<Uint8Array> };
  }

  async listChildren(prefix: string, limit: number, after?: string): Promise<string[]> {
    try {
      const entries = await readdir(this.path(prefix.replace(/\/$/, '')), { withFileTypes: true });
      const names = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
      return names.filter((name) => after === undefined || byFolderKey(name, after) > 0).sort(byFolderKey).slice(0, limit);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.path(key);
    // The object first: a reader never finds an object without its metadata.
    await rm(path, { force: true });
    await rm(`${path}.meta.json`, { force: true });
  }
}
