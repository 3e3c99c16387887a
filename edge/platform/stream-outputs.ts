/**
 * A stream's restream outputs in the platform's database (migrations/0004_stream_outputs.sql),
 * over the same SqlClient as the registry (D1, node:sqlite). The target's key is stored as given
 * (the sidecar sends it) and leaves this module only towards the sidecar's registry lookup.
 */
import { MAX_OUTPUTS_PER_STREAM, type RestreamTarget } from '../../shared/restream-target.ts';
import type { SqlClient } from './stream-registry.ts';

export interface StoredStreamOutput extends RestreamTarget {
  createdAt: string;
}

export interface StreamOutputStore {
  list(playbackId: string): Promise<StoredStreamOutput[]>;
  /** undefined when the stream already has the most outputs it may have. */
  create(playbackId: string, output: StoredStreamOutput): Promise<StoredStreamOutput | undefined>;
  delete(playbackId: string, id: string): Promise<boolean>;
}

export class SqlStreamOutputs implements StreamOutputStore {
  private readonly sql: SqlClient;

  constructor(sql: SqlClient) {
    this.sql = sql;
  }

  async list(playbackId: string): Promise<StoredStreamOutput[]> {
    const rows = await this.sql.all('SELECT id, url, stream_key, created_at FROM stream_outputs WHERE playback_id = ? ORDER BY created_at, id', [playbackId]);
    return rows.map((row) => ({ id: String(row.id), url: String(row.url), key: String(row.stream_key), createdAt: String(row.created_at) }));
  }

  async create(playbackId: string, output: StoredStreamOutput): Promise<StoredStreamOutput | undefined> {
    // One statement: the count and the insert cannot be split by another request.
    const changed = await this.sql.run(
      'INSERT INTO stream_outputs (id, playback_id, url, stream_key, created_at) SELECT ?, ?, ?, ?, ? WHERE (SELECT COUNT(*) FROM stream_outputs WHERE playback_id = ?) < ?',
      [output.id, playbackId, output.url, output.key, output.createdAt, playbackId, MAX_OUTPUTS_PER_STREAM],
    );
    return changed === 1 ? output : undefined;
  }

  async delete(playbackId: string, id: string): Promise<boolean> {
    return (await this.sql.run('DELETE FROM stream_outputs WHERE playback_id = ? AND id = ?', [playbackId, id])) === 1;
  }
}
