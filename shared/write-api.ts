/** The edge's write API, as both sides know it: `PUT /_ingest/objects/<storage key>`, bearer secret. */
export const WRITE_API_PREFIX = '/_ingest/objects/';

/** Largest object the write API accepts: a 2 s segment of a high-bitrate source fits many times. */
export const WRITE_API_MAX_BYTES = 64 * 1024 * 1024;
