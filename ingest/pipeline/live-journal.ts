/**
 * A local record of the streams this sidecar has open, so that after a crash the next start
 * knows which streams to take up again (or end properly). Written atomically on every change.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { isPlaybackId } from '../../shared/playback-id.ts';
import type { Rendition } from '../transcode/ladder.ts';

export interface JournalEntry {
  playbackId: string;
  /** The stream's name for logs (never a key). */
  name: string;
  since: string;
  /** The stream's ladder, once its source chose it. */
  renditions?: Rendition[];
  /** Whether viewers need a playback token: kept so a stream taken up after a crash stays signed. */
  playback?: 'public' | 'signed';
  /** Published with a stream key: after a crash, only that stream's key may continue it. */
  keyed?: boolean;
}

const RENDITION_NAME = /^[a-z0-9]{1,32}$/;

function isRendition(value: unknown): value is Rendition {
  if (typeof value !== 'object' || value === null) return false;
  const { name, kind } = value as Record<string, unknown>;
  return typeof name === 'string' && RENDITION_NAME.test(name) && (kind === 'video' || kind === 'audio');
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

  /** Records an open stream, or adds facts to its entry (what is not given is kept). */
  record(playbackId: string, name: string, facts: { renditions?: readonly Rendition[]; playback?: 'public' | 'signed'; keyed?: boolean } = {}): void {
    const previous = this.entries.find((entry) => entry.playbackId === playbackId);
    const entry: JournalEntry = { playbackId, name, since: previous?.since ?? new Date().toISOString() };
    const ladder = facts.renditions ?? previous?.renditions;
    if (ladder) entry.renditions = [...ladder];
    const playback = facts.playback ?? previous?.playback;
    if (playback) entry.playback = playback;
    const keyed = facts.keyed ?? previous?.keyed;
    if (keyed !== undefined) entry.keyed = keyed;
    this.entries = [...this.entries.filter((entry) => entry.playbackId !== playbackId), entry];
    this.write();
  }

  remove(playbackId: string): void {
    this.entries = this.entries.filter((entry) => entry.playbackId !== playbackId);
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
    // A journal written before entries had `name` calls it `label`, and one written before `playbackId` calls that
    // `streamId`: streams open across the upgrade are taken up.
    for (const entry of parsed) {
      if (typeof entry !== 'object' || entry === null) continue;
      if ('label' in entry && !('name' in entry)) entry.name = entry.label;
      if ('streamId' in entry && !('playbackId' in entry)) entry.playbackId = entry.streamId;
    }
    return parsed.filter(
      (entry): entry is JournalEntry =>
        typeof entry === 'object' &&
        entry !== null &&
        isPlaybackId(String(entry.playbackId)) &&
        typeof entry.name === 'string' &&
        (entry.renditions === undefined || (Array.isArray(entry.renditions) && entry.renditions.every(isRendition))) &&
        (entry.playback === undefined || entry.playback === 'public' || entry.playback === 'signed') &&
        (entry.keyed === undefined || typeof entry.keyed === 'boolean'),
    );
  }

  private write(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(this.entries, null, 2) + '\n', { mode: 0o600 });
    renameSync(temporary, this.path);
  }
}
