/**
 * The edge's clock for players, as both sides know it: `GET /time` answers the current UTC time
 * in ISO 8601 (never cached), for an MPD's UTCTiming (urn:mpeg:dash:utc:http-iso:2014).
 */
export const TIME_PATH = '/time';
