/**
 * The Delivery Directives of a low-latency playlist request (rfc8216bis 6.2.5): `_HLS_msn`,
 * `_HLS_part` (a blocking reload) and `_HLS_skip` (a delta update). Pure.
 */

/** A blocking reload's target: the playlist must list this media sequence number (and, given, this part of it). */
export interface BlockRequest {
  msn: number;
  part?: number;
}

export interface DeliveryDirectives {
  block?: BlockRequest;
  skip: boolean;
}

export type DirectivesParse = { ok: true; directives: DeliveryDirectives } | { ok: false; reason: string };

const WHOLE_NUMBER = /^\d{1,15}$/;

export function parseDeliveryDirectives(params: URLSearchParams): DirectivesParse {
  const one = (name: string): string | undefined | null => {
    const values = params.getAll(name);
    return values.length > 1 ? null : values[0];
  };
  const msn = one('_HLS_msn');
  const part = one('_HLS_part');
  const skip = one('_HLS_skip');
  if (msn === null || part === null || skip === null) return { ok: false, reason: 'each _HLS_ directive may appear once' };
  if (msn !== undefined && !WHOLE_NUMBER.test(msn)) return { ok: false, reason: '_HLS_msn must be a media sequence number' };
  if (part !== undefined && !WHOLE_NUMBER.test(part)) return { ok: false, reason: '_HLS_part must be a part index' };
  if (part !== undefined && msn === undefined) return { ok: false, reason: '_HLS_part needs _HLS_msn' };
  if (skip !== undefined && skip !== 'YES' && skip !== 'v2') return { ok: false, reason: '_HLS_skip must be YES or v2' };
  return {
    ok: true,
    directives: {
      block: msn === undefined ? undefined : { msn: Number(msn), part: part === undefined ? undefined : Number(part) },
      skip: skip !== undefined,
    },
  };
}
