-- Restream output states (issue 17 item 2): what the sidecar that carries the stream last said of
-- each output (connecting, live, retrying, failed) and why, with when it said it. NULL: the
-- stream is not live (or no sidecar has reported since the output was added).
ALTER TABLE stream_outputs ADD COLUMN state TEXT;
ALTER TABLE stream_outputs ADD COLUMN state_reason TEXT;
ALTER TABLE stream_outputs ADD COLUMN state_at TEXT;
