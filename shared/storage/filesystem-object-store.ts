/**
 * ObjectStore on a local folder: for development without an edge, and for serving from disk
 * (the Node edge). Each object is a file (written to a temporary name, then renamed: readers
 * never see half an object) with its content type in a small `.meta.json` beside it. Its entity
 * tag comes from the file itself (inode, size, modification time in ns): a rename makes a new
 * one, so a replaced object always has a new tag, without hashing every byte written.
 *
 * Kept cheap per write for a live edge (issue 21: a passthrough stream writes a segment per
 * rendition every 2 s and its playlists and status as often): folders known to exist are not
 * made again, and the metadata file is not rewritten when this store wrote the same content type
 * for the key before (playlists and status are replaced every few seconds).
 */
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { byFolderKey, type ByteRange, type ObjectMetadata, type ObjectStore, type PutOptions, type StoredObject } from './object-store.ts';

interface FileMetadata {
  contentType: string;
  /** Written by earlier versions (a hash of the bytes); ignored: the tag comes from the file now. */
  etag?: string;
}

/** Keys whose metadata this store remembers writing; past it the memory starts over (a metadata file is then written once more). */
const MAX_REMEMBERED_METADATA = 20_000;
/** Folders remembered as made. */
const MAX_REMEMBERED_FOLDERS = 20_000;

export class FilesystemObjectStore implements ObjectStore {
  readonly root: string;
  private readonly folders = new Set<string>();
  /** The content type last written to a file's metadata by this store, by file path. */
  private readonly writtenTypes = new Map<string, string>();

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
    const folder = dirname(path);
    const temporary = join(folder, `.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
    await this.writeInFolder(folder, temporary, body);
    if (this.writtenTypes.get(path) !== options.contentType) {
      const metadata: FileMetadata = { contentType: options.contentType };
      await writeFile(`${temporary}.meta`, JSON.stringify(metadata));
      // Metadata first: a reader that finds the object finds its metadata too.
      await rename(`${temporary}.meta`, `${path}.meta.json`);
      if (this.writtenTypes.size >= MAX_REMEMBERED_METADATA) this.writtenTypes.clear();
      this.writtenTypes.set(path, options.contentType);
    }
    await rename(temporary, path);
  }

  /** Writes a file in a folder made when not known to exist (or gone since: a removed stream's folder). */
  private async writeInFolder(folder: string, file: string, body: Uint8Array | string): Promise<void> {
    if (!this.folders.has(folder)) {
      await mkdir(folder, { recursive: true });
      if (this.folders.size >= MAX_REMEMBERED_FOLDERS) this.folders.clear();
      this.folders.add(folder);
    }
    try {
      await writeFile(file, body);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      // Folders were removed under this store (with whatever metadata files they held): what it
      // remembers of them is wrong now, for this folder and any other removed with it.
      this.folders.clear();
      this.writtenTypes.clear();
      await mkdir(folder, { recursive: true });
      this.folders.add(folder);
      await writeFile(file, body);
    }
  }

  async head(key: string): Promise<ObjectMetadata | null> {
    const path = this.path(key);
    try {
      const [info, metadata] = await Promise.all([stat(path, { bigint: true }), readFile(`${path}.meta.json`, 'utf8')]);
      const parsed = JSON.parse(metadata) as FileMetadata;
      return { size: Number(info.size), etag: `${info.ino.toString(36)}-${info.size.toString(36)}-${info.mtimeNs.toString(36)}`, contentType: parsed.contentType };
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
    this.writtenTypes.delete(path);
    // The object first: a reader never finds an object without its metadata.
    await rm(path, { force: true });
    await rm(`${path}.meta.json`, { force: true });
  }
}
