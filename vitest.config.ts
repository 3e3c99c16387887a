import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

// The stream registry's D1 migrations, handed to the Workers tests (applyD1Migrations in test/workers/).
const d1Migrations = await readD1Migrations('./migrations');

export default defineConfig({
  test: {
    projects: [
      {
        test: { name: 'unit', include: ['test/{shared,ingest,edge,fuzz,scripts}/**/*.test.ts'], testTimeout: 30_000 },
      },
      {
        // Inside the Workers runtime (workerd via miniflare), with the R2 binding and the Cache API of wrangler.toml.
        plugins: [cloudflareTest({ wrangler: { configPath: './wrangler.toml' }, miniflare: { bindings: { TEST_MIGRATIONS: d1Migrations } } })],
        test: { name: 'workers', include: ['test/workers/**/*.test.ts'], testTimeout: 60_000 },
      },
      {
        // Real processes (wrangler, the sidecar, ffmpeg, Chromium, VLC) on a 2-core machine:
        // one file at a time, generous timeouts.
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
