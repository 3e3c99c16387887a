-- Recordings (issue 17 item 3): whether the stream records its broadcasts. 1: on, 0: off;
-- NULL: from its retention (its own, else the sidecar's --retention): `all` records.
ALTER TABLE streams ADD COLUMN recording INTEGER CHECK (recording IS NULL OR recording IN (0, 1));
