-- Webhooks (issue 16 item 4): the events the sidecars report, once each (the sidecar's event id),
-- and one delivery per (event, endpoint) with its attempts: the API's delivery log.
CREATE TABLE IF NOT EXISTS webhook_events (
  id TEXT PRIMARY KEY NOT NULL,
  type TEXT NOT NULL,
  playback_id TEXT NOT NULL,
  -- The JSON body every endpoint receives.
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS webhook_deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL REFERENCES webhook_events (id),
  endpoint TEXT NOT NULL,
  -- pending (queued or retrying), delivered, failed (gave up).
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_status INTEGER,
  last_error TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (event_id, endpoint)
);
