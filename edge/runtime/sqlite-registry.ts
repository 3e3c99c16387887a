/**
 * The stream registry in a SQLite file (node:sqlite, on Node and Deno), migrated from
 * migrations/: the same files D1 gets on Workers.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { InProcessWebhookQueue } from '../platform/in-process-webhook-queue.ts';
import { platformWebhooks, type WebhookSettings } from '../platform/platform-webhooks.ts';
import { SqliteClient } from '../platform/sqlite-client.ts';
import { SqlStreamRegistry } from '../platform/stream-registry.ts';
import { SqlStreamOutputs } from '../platform/stream-outputs.ts';
import { targetKeySeal } from '../platform/target-key-seal.ts';

/** The platform's database in a SQLite file, migrated. */
export function openSqliteDatabase(path: string): SqliteClient {
  mkdirSync(dirname(path), { recursive: true });
  const client = new SqliteClient(new DatabaseSync(path));
  const dir = new URL('../../migrations/', import.meta.url);
  const names = readdirSync(dir).filter((name) => name.endsWith('.sql'));
  client.migrate(names.map((name) => ({ name, sql: readFileSync(new URL(name, dir), 'utf8') })));
  return client;
}

/**
 * The registry and the webhooks (their log, and the service when WEBHOOK_URLS and WEBHOOK_SECRET
 * are set) of a SQLite file: deliveries retried on this process's timers.
 */
export function openSqlitePlatform(path: string, settings: WebhookSettings & { INGEST_SECRET?: string }) {
  const client = openSqliteDatabase(path);
  const queue = new InProcessWebhookQueue();
  const webhooks = platformWebhooks(client, settings, queue);
  if (webhooks.webhooks) queue.consumeWith((job) => webhooks.webhooks!.attempt(job));
  return { registry: new SqlStreamRegistry(client), outputs: new SqlStreamOutputs(client, settings.INGEST_SECRET ? targetKeySeal(settings.INGEST_SECRET) : undefined), ...webhooks };
}
