/**
 * The platform's stream registry: the configured streams, owned by the edge. One interface with
 * one SQL implementation over a tiny client, so D1 (Workers) and SQLite (Node, Deno: node:sqlite)
 * run the same statements. Every value goes in as a bound parameter; the only SQL text built at
 * run time is a list of column names taken from a fixed table (UPDATE_COLUMNS), never from input.
 */

export type StreamPlayback = 'public' | 'signed';
export type StreamRetention = 'window' | 'all';

export interface StreamRecord {
  /** The operator's name: lower-case letters, digits and "-"; the API's identifier. */
  name: string;
  /** Public: viewers use /live/PLAYBACK_ID/... */
  playbackId: string;
  /** SHA-256 (hex) of the stream key; the key itself is never stored. */
  keySha256: string;
  playback: StreamPlayback;
  /** null: the sidecar's own --reconnect-window applies. */
  reconnectWindowSeconds: number | null;
  /** null: the sidecar's own --retention applies. */
  retention: StreamRetention | null;
  /** A disabled stream's key publishes nothing (its live publisher is dropped). */
  enabled: boolean;
  createdAt: string;
  keyRotatedAt: string;
  updatedAt: string;
  /** The stream's own webhook endpoints; null or absent: the platform's (WEBHOOK_URLS). */
  webhookUrls?: string[] | null;
  /** Whether the stream records its broadcasts (README: Recordings); null or absent: when its retention is `all`. */
  recording?: boolean | null;
  /** Days its recordings are kept once they end (0: until deleted); null or absent: the sidecar's --recording-days. */
  recordingDays?: number | null;
}

/** What an update may change (each field optional: a partial update). */
export interface StreamSettings {
  playback?: StreamPlayback;
  reconnectWindowSeconds?: number | null;
  retention?: StreamRetention | null;
  enabled?: boolean;
  webhookUrls?: string[] | null;
  recording?: boolean | null;
  recordingDays?: number | null;
}

export interface StreamRegistry {
  /** false when the name, playback id or key hash is taken (nothing is written then). */
  create(stream: StreamRecord): Promise<boolean>;
  get(name: string): Promise<StreamRecord | undefined>;
  findByPlaybackId(playbackId: string): Promise<StreamRecord | undefined>;
  findByKeySha256(keySha256: string): Promise<StreamRecord | undefined>;
  /** In name order, `limit` streams after the name `after` (exclusive). */
  list(options: { limit: number; after?: string }): Promise<StreamRecord[]>;
  count(): Promise<number>;
  update(name: string, changes: StreamSettings, now: string): Promise<StreamRecord | undefined>;
  rotateKey(name: string, keySha256: string, now: string): Promise<StreamRecord | undefined>;
  delete(name: string): Promise<boolean>;
}

export type SqlValue = string | number | null;

/** The little a registry needs of a SQL database: D1 and node:sqlite adapt to it. */
export interface SqlClient {
  all(sql: string, params: readonly SqlValue[]): Promise<Record<string, unknown>[]>;
  /** Runs a statement; resolves with the number of rows it changed. */
  run(sql: string, params: readonly SqlValue[]): Promise<number>;
}

const COLUMNS = 'name, playback_id, key_sha256, playback, reconnect_window_seconds, retention, enabled, created_at, key_rotated_at, updated_at, webhook_urls, recording, recording_days';

const UPDATE_COLUMNS: Record<keyof StreamSettings, string> = {
  playback: 'playback',
  reconnectWindowSeconds: 'reconnect_window_seconds',
  retention: 'retention',
  enabled: 'enabled',
  webhookUrls: 'webhook_urls',
  recording: 'recording',
  recordingDays: 'recording_days',
};

function recordOf(row: Record<string, unknown>): StreamRecord {
  return {
    name: String(row.name),
    playbackId: String(row.playback_id),
    keySha256: String(row.key_sha256),
    playback: row.playback === 'signed' ? 'signed' : 'public',
    reconnectWindowSeconds: row.reconnect_window_seconds === null || row.reconnect_window_seconds === undefined ? null : Number(row.reconnect_window_seconds),
    retention: row.retention === 'window' || row.retention === 'all' ? row.retention : null,
    enabled: Number(row.enabled) === 1,
    createdAt: String(row.created_at),
    keyRotatedAt: String(row.key_rotated_at),
    updatedAt: String(row.updated_at),
    webhookUrls: typeof row.webhook_urls === 'string' ? (JSON.parse(row.webhook_urls) as string[]) : null,
    // Absent (not null) when unset: records from before the column read as they did.
    ...(row.recording === null || row.recording === undefined ? {} : { recording: Number(row.recording) === 1 }),
    ...(row.recording_days === null || row.recording_days === undefined ? {} : { recordingDays: Number(row.recording_days) }),
  };
}

function sqlValue(value: StreamSettings[keyof StreamSettings]): SqlValue {
  if (typeof value === 'boolean') return value ? 1 : 0;
  // A list (webhook URLs) is stored as its JSON.
  if (Array.isArray(value)) return JSON.stringify(value);
  return value ?? null;
}

export class SqlStreamRegistry implements StreamRegistry {
  private readonly sql: SqlClient;

  constructor(sql: SqlClient) {
    this.sql = sql;
  }

  async create(stream: StreamRecord): Promise<boolean> {
    // DO NOTHING on any unique column: a taken name, playback id or key is a refusal, not an error.
    const changed = await this.sql.run(
      `INSERT INTO streams (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [stream.name, stream.playbackId, stream.keySha256, stream.playback, stream.reconnectWindowSeconds, stream.retention, stream.enabled ? 1 : 0, stream.createdAt, stream.keyRotatedAt, stream.updatedAt, sqlValue(stream.webhookUrls), sqlValue(stream.recording), sqlValue(stream.recordingDays)],
    );
    return changed === 1;
  }

  private async one(where: string, value: string): Promise<StreamRecord | undefined> {
    const [row] = await this.sql.all(`SELECT ${COLUMNS} FROM streams WHERE ${where} = ? LIMIT 1`, [value]);
    return row ? recordOf(row) : undefined;
  }

  get(name: string): Promise<StreamRecord | undefined> {
    return this.one('name', name);
  }

  findByPlaybackId(playbackId: string): Promise<StreamRecord | undefined> {
    return this.one('playback_id', playbackId);
  }

  /**
   * An indexed lookup, not a constant-time scan: the hash of a 256-bit random key leaks nothing
   * through timing that helps find a key.
   */
  findByKeySha256(keySha256: string): Promise<StreamRecord | undefined> {
    return this.one('key_sha256', keySha256);
  }

  async list(options: { limit: number; after?: string }): Promise<StreamRecord[]> {
    const rows =
      options.after === undefined
        ? await this.sql.all(`SELECT ${COLUMNS} FROM streams ORDER BY name LIMIT ?`, [options.limit])
        : await this.sql.all(`SELECT ${COLUMNS} FROM streams WHERE name > ? ORDER BY name LIMIT ?`, [options.after, options.limit]);
    return rows.map(recordOf);
  }

  async count(): Promise<number> {
    const [row] = await this.sql.all('SELECT COUNT(*) AS count FROM streams', []);
    return Number(row?.count ?? 0);
  }

  async update(name: string, changes: StreamSettings, now: string): Promise<StreamRecord | undefined> {
    const fields = (Object.keys(UPDATE_COLUMNS) as (keyof StreamSettings)[]).filter((field) => changes[field] !== undefined);
    const assignments = [...fields.map((field) => `${UPDATE_COLUMNS[field]} = ?`), 'updated_at = ?'].join(', ');
    const rows = await this.sql.all(`UPDATE streams SET ${assignments} WHERE name = ? RETURNING ${COLUMNS}`, [...fields.map((field) => sqlValue(changes[field])), now, name]);
    return rows[0] ? recordOf(rows[0]) : undefined;
  }

  async rotateKey(name: string, keySha256: string, now: string): Promise<StreamRecord | undefined> {
    const rows = await this.sql.all(`UPDATE streams SET key_sha256 = ?, key_rotated_at = ?, updated_at = ? WHERE name = ? RETURNING ${COLUMNS}`, [keySha256, now, now, name]);
    return rows[0] ? recordOf(rows[0]) : undefined;
  }

  async delete(name: string): Promise<boolean> {
    return (await this.sql.run('DELETE FROM streams WHERE name = ?', [name])) === 1;
  }
}
