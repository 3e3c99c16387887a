import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { configDefaults, defineConfig } from 'vitest/config';

// The stream registry's D1 migrations, handed to the Workers tests (applyD1Migrations in test/workers/).
const d1Migrations = await readD1Migrations('./migrations');

/**
 * End-to-end files that mostly wait (a sidecar's answer, a refused publisher, a restream target
 * coming back, a player to start, a held blocking reload), encode no ladder (640x360 sources passed
 * through; rebroadcast's and ll-client's one 180p rung, ultrafast), watch no player against the clock and measure no memory. `npm test` runs them
 * two at a time after the others (E2E_GROUP=paired, scripts/test.ts), which run one at a time
 * (E2E_GROUP=serial) and never share the machine with another file. Without E2E_GROUP every e2e
 * file is in the project, one at a time (`--project e2e test/e2e/FILE`).
 */
const PAIRED_E2E_FILES = [
  'operations', 'remux', 'webhooks', 'publish-access', 'rebroadcast', 'platform-registry',
  'publish-lease', 'live-channel-runtimes', 'state-dir', 'start-up-checks', 'recording-download-runtimes', 'recordings', 'signed-playback',
  'restream', 'edge-runtimes', 'll-client',
].map((name) => `test/e2e/${name}.test.ts`);
const e2eGroup = process.env.E2E_GROUP;
if (e2eGroup !== undefined && e2eGroup !== 'serial' && e2eGroup !== 'paired') throw new Error(`E2E_GROUP is "serial" or "paired", not "${e2eGroup}"`);

export default defineConfig({
  test: {
    projects: [
      {
        test: { name: 'unit', include: ['test/{shared,ingest,edge,fuzz,scripts,helpers}/**/*.test.ts'], testTimeout: 30_000 },
      },
      {
        // Inside the Workers runtime (workerd via miniflare), with the R2 binding and the Cache API of wrangler.toml.
        plugins: [cloudflareTest({ wrangler: { configPath: './wrangler.toml' }, miniflare: { bindings: { TEST_MIGRATIONS: d1Migrations } } })],
        test: { name: 'workers', include: ['test/workers/**/*.test.ts'], testTimeout: 60_000 },
      },
      {
        // Real processes (wrangler, the sidecar, ffmpeg, Chromium, VLC) on a 2-core machine:
        // one file at a time (the paired ones two at a time), generous timeouts.
        test: {
          name: 'e2e',
          include: e2eGroup === 'paired' ? PAIRED_E2E_FILES : ['test/e2e/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...(e2eGroup === 'serial' ? PAIRED_E2E_FILES : [])],
          ...(e2eGroup === 'paired' ? { fileParallelism: true, maxWorkers: 2 } : { fileParallelism: false }),
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
