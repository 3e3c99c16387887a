/**
 * A stream's restream outputs in the platform's database (migrations/0004_stream_outputs.sql),
 * over the same SqlClient as the registry (D1, node:sqlite). The target's key is stored as given
 * (the sidecar sends it) and leaves this module only towards the sidecar's registry lookup.
 */
import { OUTPUT_STATE_STALE_MS, type OutputState, type ReportedOutputState } from '../../shared/output-states.ts';
import { MAX_OUTPUTS_PER_STREAM, type RestreamTarget } from '../../shared/restream-target.ts';
import type { SqlClient } from './stream-registry.ts';

export interface StoredStreamOutput extends RestreamTarget {
  createdAt: string;
  /** What the sidecar carrying the stream last reported (migrations/0005); absent: never reported. */
  reported?: { state: OutputState; reason?: string; at: string };
}

/** An output's state as the API shows it: `idle` when no sidecar runs it (or its last report is stale). */
export function currentOutputState(output: StoredStreamOutput, now: Date): { state: OutputState | 'idle'; reason?: string; at?: string } {
  const reported = output.reported;
  if (!reported || now.getTime() - Date.parse(reported.at) > OUTPUT_STATE_STALE_MS) return { state: 'idle', ...(reported ? { at: reported.at } : {}) };
  return reported;
}

export interface StreamOutputStore {
  list(playbackId: string): Promise<StoredStreamOutput[]>;
  /** undefined when the stream already has the most outputs it may have. */
  create(playbackId: string, output: StoredStreamOutput): Promise<StoredStreamOutput | undefined>;
  delete(playbackId: string, id: string): Promise<boolean>;
  /** A sidecar's report: these outputs are in these states now, every other output of the stream is not running. */
  recordStates(playbackId: string, states: readonly ReportedOutputState[], at: string): Promise<void>;
}

const STATES: ReadonlySet<string> = new Set(['connecting', 'live', 'retrying', 'failed']);

export class SqlStreamOutputs implements StreamOutputStore {
  private readonly sql: SqlClient;

  constructor(sql: SqlClient) {
    this.sql = sql;
  }

  async list(playbackId: string): Promise<StoredStreamOutput[]> {
    const rows = await this.sql.all('SELECT id, url, stream_key, created_at, state, state_reason, state_at FROM stream_outputs WHERE playback_id = ? ORDER BY created_at, id', [playbackId]);
    return rows.map((row) => ({
      id: String(row.id),
      url: String(row.url),
      key: String(row.stream_key),
      createdAt: String(row.created_at),
      ...(typeof row.state === 'string' && STATES.has(row.state) && typeof row.state_at === 'string'
        ? { reported: { state: row.state as OutputState, ...(typeof row.state_reason === 'string' ? { reason: row.state_reason } : {}), at: row.state_at } }
        : {}),
    }));
  }

  async create(playbackId: string, output: StoredStreamOutput): Promise<StoredStreamOutput | undefined> {
    // One statement: the count and the insert cannot be split by another request.
    const changed = await this.sql.run(
      'INSERT INTO stream_outputs (id, playback_id, url, stream_key, created_at) SELECT ?, ?, ?, ?, ? WHERE (SELECT COUNT(*) FROM stream_outputs WHERE playback_id = ?) < ?',
      [output.id, playbackId, output.url, output.key, output.createdAt, playbackId, MAX_OUTPUTS_PER_STREAM],
    );
    return changed === 1 ? output : undefined;
  }

  async recordStates(playbackId: string, states: readonly ReportedOutputState[], at: string): Promise<void> {
    // Outputs left out of the report are not running: their state is cleared first, then each reported one set.
    const reported = states.map((state) => state.id);
    await this.sql.run(
      `UPDATE stream_outputs SET state = NULL, state_reason = NULL, state_at = ? WHERE playback_id = ?${reported.length ? ` AND id NOT IN (${reported.map(() => '?').join(', ')})` : ''}`,
      [at, playbackId, ...reported],
    );
    for (const state of states) {
      await this.sql.run('UPDATE stream_outputs SET state = ?, state_reason = ?, state_at = ? WHERE playback_id = ? AND id = ?', [state.state, state.reason ?? null, at, playbackId, state.id]);
    }
  }

  async delete(playbackId: string, id: string): Promise<boolean> {
    return (await this.sql.run('DELETE FROM stream_outputs WHERE playback_id = ? AND id = ?', [playbackId, id])) === 1;
  }
}
