/**
 * ObjectStore on a local folder: for development without an edge, and for serving from disk
 * (the Node edge). Each object is a file (written to a temporary name, then renamed: readers
 * never see half an object). Its entity tag comes from the file itself (inode, size,
 * modification time in ns): a rename makes a new one, so a replaced object always has a new tag,
 * without hashing every byte written.
 *
 * Content types are kept per folder and file extension, in one small file per folder
 * (FOLDER_TYPES_FILE: `{".m4s": "video/mp4", ".m3u8": ...}`): a rendition's segments all share one
 * type, and a metadata file beside every segment was two of the seven files a live stream's
 * segment cost the Node edge (BENCHMARKS.md, "Capacity"). An extension whose files come with
 * different types in one folder is marked `*` there, and each of its files then has its type in a
 * `.meta.json` beside it, as every file had before; a folder this store did not make and that has
 * no types file (written by an earlier version) keeps metadata files for everything.
 *
 * Kept cheap per write and read for a live edge (issue 21: a passthrough stream writes a segment
 * per rendition every 2 s and its playlists and status as often, and every viewer's request reads
 * the stream's status): folders known to exist are not made again; a folder's types are read once
 * and written only when they change; an object of up to WHOLE_READ_MAX_BYTES is read whole from
 * one open file (its size and tag from that file too, so they always match the bytes), not
 * streamed; files are written and read with fs's callback calls (fs/promises' FileHandles cost
 * more per call).
 */
import { close, createReadStream, fstat, open, read, writeFile, writev, type BigIntStats } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { byFolderKey, type ByteRange, type ObjectMetadata, type ObjectStore, type PutOptions, type StoredObject } from './object-store.ts';

interface FileMetadata {
  contentType: string;
  /** Written by earlier versions (a hash of the bytes); ignored: the tag comes from the file now. */
  etag?: string;
}

/** Keys whose content type this store remembers; past it the memory starts over (types are then read again). */
const MAX_REMEMBERED_METADATA = 20_000;
/** A folder's content types by file extension. */
export const FOLDER_TYPES_FILE = '.types.json';
/** In a folder's types: files of this extension have their own metadata files (their types differ). */
const MIXED_TYPES = '*';
/** A folder's types: by extension (`.m4s`), a content type or MIXED_TYPES; `legacy`: every file has its own metadata file. */
type FolderTypes = Map<string, string> | 'legacy';
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
  /** A file's content type as stored (this store wrote or read it), by file path. */
  private readonly writtenTypes = new Map<string, string>();
  /** Folders' types as stored (this store wrote or read them), by folder path. */
  private readonly folderTypes = new Map<string, FolderTypes>();
  /** Each folder's type recording, one after another (a new folder's first files come together). */
  private readonly typeRecordings = new Map<string, Promise<void>>();

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
    const temporary = temporaryPath(folder, OBJECT_TEMPORARY);
    const madeFolder = await this.writeInFolder(folder, temporary, body);
    if (this.writtenTypes.get(path) !== options.contentType) {
      // Types first: a reader that finds the object finds its type too.
      await this.inTurn(folder, () => this.recordType(path, options.contentType, madeFolder));
      if (this.writtenTypes.size >= MAX_REMEMBERED_METADATA) this.writtenTypes.clear();
      this.writtenTypes.set(path, options.contentType);
    }
    await rename(temporary, path);
  }

  /** Records a file's content type: in its folder's types when the folder has none other for its extension, else beside it. */
  private async recordType(path: string, contentType: string, madeFolder: boolean): Promise<void> {
    const folder = dirname(path);
    const extension = extname(path);
    let types = await this.typesOf(folder, madeFolder);
    const folderType = types === 'legacy' ? MIXED_TYPES : types.get(extension);
    // No file of a typed extension has a metadata file of its own: only mixed ones do.
    if (folderType === contentType) return;
    if (types !== 'legacy' && folderType === undefined) {
      types = new Map(types).set(extension, contentType);
      await this.writeFolderTypes(folder, types);
      return;
    }
    if (types !== 'legacy' && folderType !== MIXED_TYPES) {
      // The extension's first file of another type here: its files so far get their type beside them.
      await this.giveOwnTypes(folder, extension, folderType!);
      await this.writeFolderTypes(folder, new Map(types).set(extension, MIXED_TYPES));
    }
    await writeMetadataFile(path, contentType);
  }

  /** Runs `task` after the folder's earlier type recordings: each reads the types the one before wrote. */
  private inTurn(folder: string, task: () => Promise<void>): Promise<void> {
    const turn = (this.typeRecordings.get(folder) ?? Promise.resolve()).catch(() => undefined).then(task);
    this.typeRecordings.set(folder, turn);
    const forget = () => {
      if (this.typeRecordings.get(folder) === turn) this.typeRecordings.delete(folder);
    };
    turn.then(forget, forget);
    return turn;
  }

  /** A folder's types as stored; a folder this store just made has none yet, one from an earlier version is `legacy`. */
  private async typesOf(folder: string, madeFolder: boolean): Promise<FolderTypes> {
    const known = this.folderTypes.get(folder);
    if (known) return known;
    let types: FolderTypes;
    try {
      types = new Map(Object.entries(JSON.parse(await readFile(join(folder, FOLDER_TYPES_FILE), 'utf8')) as Record<string, string>));
    } catch (error) {
      if (!isMissing(error)) throw error;
      types = madeFolder || (await folderIsEmpty(folder)) ? new Map() : 'legacy';
    }
    // A recording that finished meanwhile wrote newer types: they stay.
    const newer = this.folderTypes.get(folder);
    if (newer) return newer;
    if (this.folderTypes.size >= MAX_REMEMBERED_FOLDERS) this.folderTypes.clear();
    this.folderTypes.set(folder, types);
    return types;
  }

  private async writeFolderTypes(folder: string, types: Map<string, string>): Promise<void> {
    const temporary = temporaryPath(folder, 'types');
    await writeFileAsync(temporary, JSON.stringify(Object.fromEntries(types)));
    await rename(temporary, join(folder, FOLDER_TYPES_FILE));
    this.folderTypes.set(folder, types);
  }

  /** Writes `contentType` beside every file of `extension` in `folder` (they had it from the folder's types). */
  private async giveOwnTypes(folder: string, extension: string, contentType: string): Promise<void> {
    const names = await readdir(folder);
    for (const name of names) {
      if (name.startsWith('.') || name.endsWith('.meta.json') || extname(name) !== extension) continue;
      await writeMetadataFile(join(folder, name), contentType);
    }
  }

  /**
   * Writes a file in a folder made when not known to exist (or gone since: a removed stream's
   * folder). Whether this call made the folder: then it holds nothing from an earlier version.
   */
  private async writeInFolder(folder: string, file: string, body: Body): Promise<boolean> {
    let made = false;
    if (!this.folders.has(folder)) {
      made = (await mkdir(folder, { recursive: true })) !== undefined;
      if (this.folders.size >= MAX_REMEMBERED_FOLDERS) this.folders.clear();
      this.folders.add(folder);
    }
    try {
      await writeBody(file, body);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      // Folders were removed under this store (with whatever types they held): what it
      // remembers of them is wrong now, for this folder and any other removed with it.
      this.folders.clear();
      this.writtenTypes.clear();
      this.folderTypes.clear();
      made = (await mkdir(folder, { recursive: true })) !== undefined;
      this.folders.add(folder);
      await writeBody(file, body);
    }
    return made;
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

  /** A file's content type: as this store last wrote or read it, else from its folder's types or its metadata file (ENOENT when it has neither). */
  private async contentType(path: string): Promise<string> {
    const known = this.writtenTypes.get(path);
    if (known !== undefined) return known;
    const folder = dirname(path);
    let types = await this.typesOf(folder, false);
    if (types !== 'legacy' && !types.has(extname(path))) {
      // Another process (a sidecar writing this folder) may have typed the extension since it was read.
      this.folderTypes.delete(folder);
      types = await this.typesOf(folder, false);
    }
    const folderType = types === 'legacy' ? undefined : types.get(extname(path));
    const contentType = folderType !== undefined && folderType !== MIXED_TYPES ? folderType : ((JSON.parse(await readFile(`${path}.meta.json`, 'utf8')) as FileMetadata).contentType);
    if (this.writtenTypes.size >= MAX_REMEMBERED_METADATA) this.writtenTypes.clear();
    this.writtenTypes.set(path, contentType);
    return contentType;
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
    const types = this.folderTypes.get(dirname(path));
    const ownMetadata = types === undefined || types === 'legacy' || types.get(extname(path)) === MIXED_TYPES;
    // The object first: a reader never finds an object without its type.
    await rm(path, { force: true });
    if (ownMetadata) await rm(`${path}.meta.json`, { force: true });
  }
}

/** An object's bytes before their rename (a folder holding only these holds no object yet). */
const OBJECT_TEMPORARY = 'tmp';

/** A hidden name in `folder` for a file written before it is renamed into place. */
function temporaryPath(folder: string, suffix: string): string {
  return join(folder, `.${process.pid}.${Math.random().toString(36).slice(2)}.${suffix}`);
}

/** A file's content type beside it (written to a temporary name, then renamed). */
async function writeMetadataFile(path: string, contentType: string): Promise<void> {
  const metadata: FileMetadata = { contentType };
  const temporary = temporaryPath(dirname(path), 'meta');
  await writeFileAsync(temporary, JSON.stringify(metadata));
  await rename(temporary, `${path}.meta.json`);
}

/** Whether a folder holds no file but this store's temporary ones (a folder another process just made). */
async function folderIsEmpty(folder: string): Promise<boolean> {
  const names = await readdir(folder).catch((error: unknown) => (isMissing(error) ? [] : Promise.reject(error)));
  return names.every((name) => name.startsWith('.') && name.endsWith(`.${OBJECT_TEMPORARY}`));
}
