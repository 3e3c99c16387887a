/**
 * A stream's restream outputs in the platform's database (migrations/0004_stream_outputs.sql),
 * over the same SqlClient as the registry (D1, node:sqlite). The target's key is stored sealed
 * under the edge's INGEST_SECRET (target-key-seal.ts; as given when the edge has no secret, and
 * then no sidecar can ask for it) and leaves this module only towards the sidecar's registry lookup.
 */
import { OUTPUT_STATE_STALE_MS, type OutputState, type ReportedOutputState } from '../../shared/output-states.ts';
import { MAX_OUTPUTS_PER_STREAM, type RestreamTarget } from '../../shared/restream-target.ts';
import type { SqlClient } from './stream-registry.ts';
import type { TargetKeySeal } from './target-key-seal.ts';

export interface StoredStreamOutput extends RestreamTarget {
  createdAt: string;
  /** What the sidecar carrying the stream last reported (migrations/0005); absent: never reported. */
  reported?: { state: OutputState; reason?: string; at: string };
  /** The stored key does not open with this edge's secret (INGEST_SECRET changed since it was added): `key` is empty. */
  keyUnreadable?: true;
}

/** Why an output whose key does not open cannot run (the API shows it as failed). */
export const UNREADABLE_KEY_REASON = "its key cannot be read with this edge's INGEST_SECRET (changed since the output was added): delete the output and add it again";

/** An output's state as the API shows it: `idle` when no sidecar runs it (or its last report is stale). */
export function currentOutputState(output: StoredStreamOutput, now: Date): { state: OutputState | 'idle'; reason?: string; at?: string } {
  if (output.keyUnreadable) return { state: 'failed', reason: UNREADABLE_KEY_REASON };
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
  private readonly seal: TargetKeySeal | undefined;

  /** `seal`: from the edge's INGEST_SECRET; undefined (no secret) stores keys as given. */
  constructor(sql: SqlClient, seal: TargetKeySeal | undefined) {
    this.sql = sql;
    this.seal = seal;
  }

  async list(playbackId: string): Promise<StoredStreamOutput[]> {
    const rows = await this.sql.all('SELECT id, url, stream_key, stream_key_sealed, created_at, state, state_reason, state_at FROM stream_outputs WHERE playback_id = ? ORDER BY created_at, id', [playbackId]);
    return Promise.all(
      rows.map(async (row) => {
        const id = String(row.id);
        const key = row.stream_key_sealed === 1 ? await this.seal?.open(String(row.stream_key), keyBinding(playbackId, id)) : String(row.stream_key);
        return {
          id,
          url: String(row.url),
          key: key ?? '',
          createdAt: String(row.created_at),
          ...(key === undefined ? { keyUnreadable: true as const } : {}),
          ...(typeof row.state === 'string' && STATES.has(row.state) && typeof row.state_at === 'string'
            ? { reported: { state: row.state as OutputState, ...(typeof row.state_reason === 'string' ? { reason: row.state_reason } : {}), at: row.state_at } }
            : {}),
        };
      }),
    );
  }

  async create(playbackId: string, output: StoredStreamOutput): Promise<StoredStreamOutput | undefined> {
    const stored = this.seal ? await this.seal.seal(output.key, keyBinding(playbackId, output.id)) : output.key;
    // One statement: the count and the insert cannot be split by another request.
    const changed = await this.sql.run(
      'INSERT INTO stream_outputs (id, playback_id, url, stream_key, stream_key_sealed, created_at) SELECT ?, ?, ?, ?, ?, ? WHERE (SELECT COUNT(*) FROM stream_outputs WHERE playback_id = ?) < ?',
      [output.id, playbackId, output.url, stored, this.seal ? 1 : 0, output.createdAt, playbackId, MAX_OUTPUTS_PER_STREAM],
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

/** What a sealed key is bound to: its stream and its output. */
function keyBinding(playbackId: string, outputId: string): string {
  return `${playbackId}/${outputId}`;
}
