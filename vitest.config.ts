import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: { name: 'unit', include: ['test/{shared,ingest,edge}/**/*.test.ts'], testTimeout: 30_000 },
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
