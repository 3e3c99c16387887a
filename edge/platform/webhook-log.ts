/** Webhook events and their deliveries in the registry's database (migrations/0002_webhooks.sql), through the same SQL client. */
import type { SqlClient } from './stream-registry.ts';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface DeliveryRecord {
  id: number;
  eventId: string;
  eventType: string;
  playbackId: string;
  endpoint: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

const DELIVERY_COLUMNS = 'd.id, d.event_id, e.type, e.playback_id, d.endpoint, d.status, d.attempts, d.last_status, d.last_error, d.created_at, d.updated_at';

function deliveryOf(row: Record<string, unknown>): DeliveryRecord {
  return {
    id: Number(row.id),
    eventId: String(row.event_id),
    eventType: String(row.type),
    playbackId: String(row.playback_id),
    endpoint: String(row.endpoint),
    status: row.status === 'delivered' || row.status === 'failed' ? row.status : 'pending',
    attempts: Number(row.attempts),
    lastStatus: row.last_status === null || row.last_status === undefined ? null : Number(row.last_status),
    lastError: row.last_error === null || row.last_error === undefined ? null : String(row.last_error),
    createdAt: String(row.created_at),
    updatedAt: String(row.updated_at),
  };
}

export class WebhookLog {
  private readonly sql: SqlClient;

  constructor(sql: SqlClient) {
    this.sql = sql;
  }

  /** false when an event with this id was recorded before (a sidecar's retry): nothing is delivered twice. */
  async recordEvent(event: { id: string; type: string; playbackId: string; payload: string; createdAt: string }): Promise<boolean> {
    const changed = await this.sql.run('INSERT INTO webhook_events (id, type, playback_id, payload, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING', [event.id, event.type, event.playbackId, event.payload, event.createdAt]);
    return changed === 1;
  }

  async addDelivery(eventId: string, endpoint: string, now: string): Promise<number | undefined> {
    const rows = await this.sql.all('INSERT INTO webhook_deliveries (event_id, endpoint, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id', [eventId, endpoint, now, now]);
    return rows[0] ? Number(rows[0].id) : undefined;
  }

  /** A delivery with the body its endpoint receives. */
  async delivery(id: number): Promise<{ delivery: DeliveryRecord; payload: string } | undefined> {
    const [row] = await this.sql.all(`SELECT ${DELIVERY_COLUMNS}, e.payload FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id WHERE d.id = ?`, [id]);
    return row ? { delivery: deliveryOf(row), payload: String(row.payload) } : undefined;
  }

  async recordAttempt(id: number, outcome: { status: DeliveryStatus; httpStatus: number | null; error: string | null }, now: string): Promise<void> {
    await this.sql.run('UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, last_status = ?, last_error = ?, updated_at = ? WHERE id = ?', [outcome.status, outcome.httpStatus, outcome.error, now, id]);
  }

  /** Newest first, `limit` deliveries before the id `before` (exclusive). */
  async list(options: { limit: number; before?: number; playbackId?: string }): Promise<DeliveryRecord[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (options.before !== undefined) {
      where.push('d.id < ?');
      params.push(options.before);
    }
    if (options.playbackId !== undefined) {
      where.push('e.playback_id = ?');
      params.push(options.playbackId);
    }
    const rows = await this.sql.all(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY d.id DESC LIMIT ?`,
      [...params, options.limit],
    );
    return rows.map(deliveryOf);
  }
}
