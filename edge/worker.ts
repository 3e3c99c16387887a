/** Cloudflare Workers entry: wires the R2 binding and secrets into the app. */
import hlsJsSource from 'hls.js/dist/hls.min.js';
import hlsJsPackage from 'hls.js/package.json' with { type: 'json' };
import type { Hono } from 'hono';
import { createApp } from './app.ts';
import { R2ObjectStore } from './storage/r2-object-store.ts';

export interface Env {
  BUCKET: R2Bucket;
  INGEST_SECRET?: string;
}

let app: Hono | undefined;

export default {
  fetch(request, env, ctx) {
    app ??= createApp({
      store: new R2ObjectStore(env.BUCKET),
      ingestSecret: env.INGEST_SECRET,
      assets: { hlsJsVersion: hlsJsPackage.version, hlsJsSource },
    });
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
