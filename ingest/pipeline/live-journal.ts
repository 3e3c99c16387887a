/**
 * A local record of the streams this sidecar has open, so that after a crash the next start
 * knows which streams to take up again (or end properly). Written atomically on every change.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { isStreamId } from '../../shared/stream-id.ts';

export interface JournalEntry {
  streamId: string;
  /** The stream's name for logs (never a key). */
  label: string;
  since: string;
}

export class LiveJournal {
  readonly path: string;
  private entries: JournalEntry[];

  constructor(path: string) {
    this.path = path;
    this.entries = this.read();
  }

  /** The streams that were open when the journal was last written. */
  list(): JournalEntry[] {
    return [...this.entries];
  }

  record(streamId: string, label: string): void {
    this.entries = [...this.entries.filter((entry) => entry.streamId !== streamId), { streamId, label, since: new Date().toISOString() }];
    this.write();
  }

  remove(streamId: string): void {
    this.entries = this.entries.filter((entry) => entry.streamId !== streamId);
    this.write();
  }

  private read(): JournalEntry[] {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new Error(`${this.path} is unreadable (${(error as Error).message}); remove it to start afresh`);
    }
    if (!Array.isArray(parsed)) throw new Error(`${this.path}: expected a list of streams`);
    return parsed.filter(
      (entry): entry is JournalEntry => typeof entry === 'object' && entry !== null && isStreamId(String(entry.streamId)) && typeof entry.label === 'string',
    );
  }

  private write(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(this.entries, null, 2) + '\n', { mode: 0o600 });
    renameSync(temporary, this.path);
  }
}
