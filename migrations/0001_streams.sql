-- The stream registry (issue 16): the platform's configured streams, owned by the edge.
-- D1 on Workers (`wrangler d1 migrations apply DB`), SQLite on the Node and Deno edges
-- (edge/platform/sqlite-client.ts applies this folder's files in order).
-- Stream keys are never stored: only their SHA-256 (hex). Times are ISO 8601 UTC strings.
CREATE TABLE IF NOT EXISTS streams (
  name TEXT PRIMARY KEY NOT NULL,
  playback_id TEXT NOT NULL UNIQUE,
  key_sha256 TEXT NOT NULL UNIQUE,
  playback TEXT NOT NULL DEFAULT 'public' CHECK (playback IN ('public', 'signed')),
  -- NULL: the sidecar's own --reconnect-window / --retention apply.
  reconnect_window_seconds INTEGER CHECK (reconnect_window_seconds IS NULL OR (reconnect_window_seconds BETWEEN 0 AND 3600)),
  retention TEXT CHECK (retention IS NULL OR retention IN ('window', 'all')),
  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  created_at TEXT NOT NULL,
  key_rotated_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
