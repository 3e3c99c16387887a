-- Recordings (issue 17 item 3): days a stream's recordings are kept once they end (0: until
-- deleted); NULL: the sidecar's --recording-days.
ALTER TABLE streams ADD COLUMN recording_days INTEGER CHECK (recording_days IS NULL OR (recording_days >= 0 AND recording_days <= 36500));
