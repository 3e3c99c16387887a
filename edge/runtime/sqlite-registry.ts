/**
 * The stream registry in a SQLite file (node:sqlite, on Node and Deno), migrated from
 * migrations/: the same files D1 gets on Workers.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SqliteClient } from '../platform/sqlite-client.ts';
import { SqlStreamRegistry } from '../platform/stream-registry.ts';

export function openSqliteRegistry(path: string): SqlStreamRegistry {
  mkdirSync(dirname(path), { recursive: true });
  const client = new SqliteClient(new DatabaseSync(path));
  const dir = new URL('../../migrations/', import.meta.url);
  const names = readdirSync(dir).filter((name) => name.endsWith('.sql'));
  client.migrate(names.map((name) => ({ name, sql: readFileSync(new URL(name, dir), 'utf8') })));
  return new SqlStreamRegistry(client);
}
