/**
 * The registry's SQL client over SQLite on the Node and Deno edges (`node:sqlite`'s DatabaseSync,
 * built into Node 24 and Deno 2, opened by the runtime's entry point). Migrations are the same
 * files `wrangler d1 migrations apply` runs on D1, applied here in name order at start and
 * recorded in the table wrangler uses. No runtime import here: the Workers type-check reads it too.
 */
import type { SqlClient, SqlValue } from './stream-registry.ts';

/** What is used of node:sqlite's DatabaseSync (structurally: Node's and Deno's both fit). */
export interface SyncSqliteDatabase {
  exec(sql: string): void;
  prepare(sql: string): {
    all(...params: SqlValue[]): unknown[];
    run(...params: SqlValue[]): { changes: number | bigint };
  };
}

export interface MigrationFile {
  name: string;
  sql: string;
}

/** wrangler's own bookkeeping table for D1 migrations. */
const MIGRATIONS_TABLE = 'd1_migrations';

export class SqliteClient implements SqlClient {
  private readonly db: SyncSqliteDatabase;

  constructor(db: SyncSqliteDatabase) {
    this.db = db;
    // Several edge processes may share one file: wait for a writer instead of failing at once.
    this.db.exec('PRAGMA busy_timeout = 5000');
  }

  /** Applies the migrations not applied yet, in name order; returns the names applied. */
  migrate(files: readonly MigrationFile[]): string[] {
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`);
    const applied = new Set(this.db.prepare(`SELECT name FROM ${MIGRATIONS_TABLE}`).all().map((row) => String((row as { name: unknown }).name)));
    const pending = files.filter((file) => !applied.has(file.name)).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const file of pending) {
      this.db.exec('BEGIN');
      try {
        this.db.exec(file.sql);
        this.db.prepare(`INSERT INTO ${MIGRATIONS_TABLE} (name) VALUES (?)`).run(file.name);
        this.db.exec('COMMIT');
      } catch (error) {
        this.db.exec('ROLLBACK');
        throw new Error(`migration ${file.name} failed: ${(error as Error).message}`);
      }
    }
    return pending.map((file) => file.name);
  }

  all(sql: string, params: readonly SqlValue[]): Promise<Record<string, unknown>[]> {
    return Promise.resolve(this.db.prepare(sql).all(...params) as Record<string, unknown>[]);
  }

  run(sql: string, params: readonly SqlValue[]): Promise<number> {
    return Promise.resolve(Number(this.db.prepare(sql).run(...params).changes));
  }
}
