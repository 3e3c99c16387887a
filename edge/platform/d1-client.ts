/** The registry's SQL client over a D1 binding (Workers; local SQLite under `wrangler dev`). */
import type { SqlClient, SqlValue } from './stream-registry.ts';

export class D1Client implements SqlClient {
  private readonly db: D1Database;

  constructor(db: D1Database) {
    this.db = db;
  }

  async all(sql: string, params: readonly SqlValue[]): Promise<Record<string, unknown>[]> {
    const result = await this.db.prepare(sql).bind(...params).all<Record<string, unknown>>();
    return result.results;
  }

  async run(sql: string, params: readonly SqlValue[]): Promise<number> {
    const result = await this.db.prepare(sql).bind(...params).run();
    return result.meta.changes;
  }
}
