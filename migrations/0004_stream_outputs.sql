-- Restream outputs (issue 17 item 2): where a stream is forwarded to. Keyed by the stream's
-- playback id (random, never reused), so a stream created later under a removed stream's name
-- never inherits its outputs. `stream_key` is the target's key as given: the sidecar must send it.
CREATE TABLE stream_outputs (
  id TEXT PRIMARY KEY,
  playback_id TEXT NOT NULL,
  url TEXT NOT NULL,
  stream_key TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX stream_outputs_by_stream ON stream_outputs (playback_id, created_at);
