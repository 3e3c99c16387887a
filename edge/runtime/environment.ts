/**
 * The part of every runtime's wiring that is the same everywhere: the edge's settings read from
 * its environment (Workers bindings, `process.env`, `Deno.env`), joined to what the runtime builds
 * itself (storage, live state, registry, player assets) into the app's dependencies.
 */
import type { EdgeDependencies } from '../app.ts';

/** The settings every edge reads from its environment, whatever the runtime. */
export interface EdgeEnvironment {
  /** Secret the sidecar's writes must carry; unset (or empty) disables the write API. */
  INGEST_SECRET?: string;
  /** Secret of signed playback tokens. */
  PLAYBACK_SECRET?: string;
  /** Optional CDN base URL for segments, e.g. https://cdn.example.com/live/ */
  SEGMENT_BASE_URL?: string;
  /** Bearer token of the management API, /api/v1/streams. */
  ADMIN_TOKEN?: string;
}

/** What only the runtime can build: everything of the app's dependencies but the settings. */
export type RuntimeParts = Omit<EdgeDependencies, 'ingestSecret' | 'playbackSecret' | 'segmentBaseUrl' | 'adminToken'>;

/** The app's dependencies: the runtime's parts and the environment's settings (an empty value is an unset one). */
export function edgeDependencies(env: EdgeEnvironment, parts: RuntimeParts): EdgeDependencies {
  return {
    ...parts,
    ingestSecret: env.INGEST_SECRET || undefined,
    playbackSecret: env.PLAYBACK_SECRET || undefined,
    segmentBaseUrl: env.SEGMENT_BASE_URL || undefined,
    adminToken: env.ADMIN_TOKEN || undefined,
  };
}
