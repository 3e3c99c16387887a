-- Webhooks per stream (issue 16 item 4): a stream's own endpoints (a JSON array of URLs) instead of
-- the platform's WEBHOOK_URLS; NULL: the platform's.
ALTER TABLE streams ADD COLUMN webhook_urls TEXT;
