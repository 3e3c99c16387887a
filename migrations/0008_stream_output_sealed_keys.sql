-- Restream target keys at rest (edge/platform/target-key-seal.ts): 1 when `stream_key` holds the
-- key sealed under the edge's INGEST_SECRET (AES-256-GCM), 0 for a key stored as given (outputs
-- added before this migration, or by an edge without INGEST_SECRET).
ALTER TABLE stream_outputs ADD COLUMN stream_key_sealed INTEGER NOT NULL DEFAULT 0 CHECK (stream_key_sealed IN (0, 1));
