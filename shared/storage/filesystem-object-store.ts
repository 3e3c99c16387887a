/**
 * ObjectStore on a local folder: for development without an edge, and for serving from disk
 * (the Node edge). Each object is a file (written to a temporary name, then renamed: readers
 * never see half an object) with its content type in a small `.meta.json` beside it. Its entity
 * tag comes from the file itself (inode, size, modification time in ns): a rename makes a new
 * one, so a replaced object always has a new tag, without hashing every byte written.
 *
 * Kept cheap per write and read for a live edge (issue 21: a passthrough stream writes a segment
 * per rendition every 2 s and its playlists and status as often, and every viewer's request reads
 * the stream's status): folders known to exist are not made again; the metadata file is not
 * rewritten when this store wrote the same content type for the key before, nor read again once
 * known; an object of up to WHOLE_READ_MAX_BYTES is read whole from one open file (its size and
 * tag from that file too, so they always match the bytes), not streamed; files are written and
 * read with fs's callback calls (fs/promises' FileHandles cost more per call).
 */
import { close, createReadStream, fstat, open, read, writeFile, writev, type BigIntStats } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
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
/** Objects up to this size are read whole (playlists, status, segments); larger ones and ranges are streamed. */
const WHOLE_READ_MAX_BYTES = 16 * 1024 * 1024;

const writeFileAsync = promisify(writeFile);
const openAsync = promisify(open);
const closeAsync = promisify(close);
const fstatBigInt = (fd: number) => new Promise<BigIntStats>((done, fail) => fstat(fd, { bigint: true }, (error, stats) => (error ? fail(error) : done(stats))));
const readAsync = (fd: number, buffer: Uint8Array, offset: number) =>
  new Promise<number>((done, fail) => read(fd, buffer, offset, buffer.byteLength - offset, offset, (error, bytesRead) => (error ? fail(error) : done(bytesRead))));

type Body = Uint8Array | string | readonly Uint8Array[];

const writevAsync = (fd: number, chunks: readonly Uint8Array[]) =>
  new Promise<number>((done, fail) => writev(fd, chunks as Uint8Array[], (error, written) => (error ? fail(error) : done(written))));

/** A new file of `body`; chunks go in one writev (again for what a short write left). */
async function writeBody(file: string, body: Body): Promise<void> {
  if (typeof body === 'string' || body instanceof Uint8Array) return writeFileAsync(file, body);
  const fd = await openAsync(file, 'w');
  try {
    let chunks = body.filter((chunk) => chunk.byteLength > 0);
    while (chunks.length > 0) {
      let written = await writevAsync(fd, chunks);
      while (chunks.length > 0 && written >= chunks[0]!.byteLength) {
        written -= chunks[0]!.byteLength;
        chunks = chunks.slice(1);
      }
      if (written > 0) chunks = [chunks[0]!.subarray(written), ...chunks.slice(1)];
    }
  } finally {
    await closeAsync(fd);
  }
}

function entityTag(info: BigIntStats): string {
  return `${info.ino.toString(36)}-${info.size.toString(36)}-${info.mtimeNs.toString(36)}`;
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

export class FilesystemObjectStore implements ObjectStore {
  readonly root: string;
  private readonly folders = new Set<string>();
  /** A file's content type as its metadata file has it (this store wrote or read it), by file path. */
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

  put(key: string, body: Uint8Array | string, options: PutOptions): Promise<void> {
    return this.write(key, body, options);
  }

  /** The chunks written with writev: one system call, no joined copy. */
  putChunks(key: string, chunks: readonly Uint8Array[], options: PutOptions): Promise<void> {
    return this.write(key, chunks, options);
  }

  private async write(key: string, body: Body, options: PutOptions): Promise<void> {
    const path = this.path(key);
    const folder = dirname(path);
    const temporary = join(folder, `.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
    await this.writeInFolder(folder, temporary, body);
    if (this.writtenTypes.get(path) !== options.contentType) {
      const metadata: FileMetadata = { contentType: options.contentType };
      await writeFileAsync(`${temporary}.meta`, JSON.stringify(metadata));
      // Metadata first: a reader that finds the object finds its metadata too.
      await rename(`${temporary}.meta`, `${path}.meta.json`);
      if (this.writtenTypes.size >= MAX_REMEMBERED_METADATA) this.writtenTypes.clear();
      this.writtenTypes.set(path, options.contentType);
    }
    await rename(temporary, path);
  }

  /** Writes a file in a folder made when not known to exist (or gone since: a removed stream's folder). */
  private async writeInFolder(folder: string, file: string, body: Body): Promise<void> {
    if (!this.folders.has(folder)) {
      await mkdir(folder, { recursive: true });
      if (this.folders.size >= MAX_REMEMBERED_FOLDERS) this.folders.clear();
      this.folders.add(folder);
    }
    try {
      await writeBody(file, body);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      // Folders were removed under this store (with whatever metadata files they held): what it
      // remembers of them is wrong now, for this folder and any other removed with it.
      this.folders.clear();
      this.writtenTypes.clear();
      await mkdir(folder, { recursive: true });
      this.folders.add(folder);
      await writeBody(file, body);
    }
  }

  async head(key: string): Promise<ObjectMetadata | null> {
    const path = this.path(key);
    try {
      const [info, contentType] = await Promise.all([stat(path, { bigint: true }), this.contentType(path)]);
      return { size: Number(info.size), etag: entityTag(info), contentType };
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async get(key: string, range?: ByteRange): Promise<StoredObject | null> {
    if (range) return this.streamed(key, range);
    const path = this.path(key);
    let fd: number;
    try {
      fd = await openAsync(path, 'r');
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
    try {
      const [info, contentType] = await Promise.all([fstatBigInt(fd), this.contentType(path)]);
      if (info.size > WHOLE_READ_MAX_BYTES) return this.streamed(key);
      // Not zero-filled first: every byte is read over.
      const bytes: Uint8Array<ArrayBuffer> = Buffer.allocUnsafeSlow(Number(info.size));
      for (let offset = 0; offset < bytes.byteLength; ) {
        const bytesRead = await readAsync(fd, bytes, offset);
        if (bytesRead === 0) throw new Error(`${key} ended before its ${bytes.byteLength} bytes were read`);
        offset += bytesRead;
      }
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          if (bytes.byteLength > 0) controller.enqueue(bytes);
          controller.close();
        },
      });
      return { size: bytes.byteLength, etag: entityTag(info), contentType, body };
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    } finally {
      await closeAsync(fd).catch(() => undefined);
    }
  }

  /** A large object or a byte range, read as it is sent. */
  private async streamed(key: string, range?: ByteRange): Promise<StoredObject | null> {
    const metadata = await this.head(key);
    if (!metadata) return null;
    const stream = createReadStream(this.path(key), range ? { start: range.offset, end: range.offset + range.length - 1 } : {});
    return { ...metadata, body: Readable.toWeb(stream) as ReadableStream<Uint8Array> };
  }

  /** A file's content type: as this store last wrote or read it, else from its metadata file (ENOENT when it has none). */
  private async contentType(path: string): Promise<string> {
    const known = this.writtenTypes.get(path);
    if (known !== undefined) return known;
    const parsed = JSON.parse(await readFile(`${path}.meta.json`, 'utf8')) as FileMetadata;
    if (this.writtenTypes.size >= MAX_REMEMBERED_METADATA) this.writtenTypes.clear();
    this.writtenTypes.set(path, parsed.contentType);
    return parsed.contentType;
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
