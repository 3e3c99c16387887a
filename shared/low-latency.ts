/**
 * Low-latency HLS, as both sides know it. The sidecar sends each CMAF chunk as a part the moment
 * it is complete, over the stream's live channel (live-channel-protocol.ts: the announcement's
 * fields in a binary frame's header). The write API still takes a part as
 * `PUT <write API>/streams/ID/REND/SESSION-T.pN.m4s` with the part's bytes and these headers (for
 * other clients). The edge keeps the newest parts in its live state (never in storage) and lists
 * them in the media playlists it serves.
 */
import { parseStreamRelativePath } from './storage/layout.ts';

export interface PartAnnouncement {
  /** Media sequence number of the segment this part belongs to. */
  msn: number;
  /** Seconds. */
  duration: number;
  /** The part starts with a sync sample (EXT-X-PART INDEPENDENT=YES). */
  independent: boolean;
  /** File name of the part expected next (EXT-X-PRELOAD-HINT): the next part of this segment, or the first of the next. */
  next: string;
  /** EXT-X-PART-INF PART-TARGET, seconds: no part lasts longer. */
  partTarget: number;
}

const HEADER = {
  msn: 'x-part-msn',
  duration: 'x-part-duration',
  independent: 'x-part-independent',
  next: 'x-part-next',
  partTarget: 'x-part-target',
} as const;

export function partAnnouncementHeaders(part: PartAnnouncement): Record<string, string> {
  return {
    [HEADER.msn]: String(part.msn),
    [HEADER.duration]: part.duration.toFixed(5),
    [HEADER.independent]: part.independent ? '1' : '0',
    [HEADER.next]: part.next,
    [HEADER.partTarget]: part.partTarget.toFixed(3),
  };
}

export type AnnouncementParse = { ok: true; part: PartAnnouncement } | { ok: false; reason: string };

const DECIMAL = /^\d{1,3}(?:\.\d{1,6})?$/;
const WHOLE = /^\d{1,15}$/;

/** Reads and checks an announcement from request headers; the reason names the bad header. */
export function parsePartAnnouncement(header: (name: string) => string | undefined): AnnouncementParse {
  const msn = header(HEADER.msn) ?? '';
  if (!WHOLE.test(msn)) return { ok: false, reason: `${HEADER.msn} must be a media sequence number` };
  const duration = header(HEADER.duration) ?? '';
  if (!DECIMAL.test(duration) || !(Number(duration) > 0 && Number(duration) <= 10)) return { ok: false, reason: `${HEADER.duration} must be seconds, above 0 and at most 10` };
  const independent = header(HEADER.independent);
  if (independent !== '0' && independent !== '1') return { ok: false, reason: `${HEADER.independent} must be 0 or 1` };
  const next = header(HEADER.next) ?? '';
  if (parseStreamRelativePath(`r/${next}`)?.kind !== 'part') return { ok: false, reason: `${HEADER.next} must be a part file name (SESSION-TIME.pN.m4s)` };
  const partTarget = header(HEADER.partTarget) ?? '';
  if (!DECIMAL.test(partTarget) || !(Number(partTarget) >= 0.05 && Number(partTarget) <= 5)) return { ok: false, reason: `${HEADER.partTarget} must be seconds from 0.05 to 5` };
  return { ok: true, part: { msn: Number(msn), duration: Number(duration), independent: independent === '1', next, partTarget: Number(partTarget) } };
}
