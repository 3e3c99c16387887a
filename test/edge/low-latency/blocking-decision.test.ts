/**
 * The blocking-reload decision table (rfc8216bis §6.2.5.2), every relation of a request to where
 * the playlist ends: segments before, at and past the last listed one; parts within, at and past
 * a segment's last part; parts listed or received but not listed; part targets under and over 1 s.
 */
import { describe, expect, it } from 'vitest';
import { advancePartLimit, decideBlocking, type BlockingTarget, type PlaylistEnd } from '../../../edge/low-latency/blocking-decision.ts';

/** Segments 0..10 listed, 6 parts each where known; `listed` parts of segment 11 listed, `received` received. */
function end(options: { listed?: number; received?: number; known?: boolean; ended?: boolean } = {}): PlaylistEnd {
  const listed = options.listed ?? 0;
  return {
    ended: options.ended ?? false,
    lastMsn: 10,
    partsOf: (msn) => (options.known === false || msn < 8 || msn > 10 ? undefined : 6),
    partsListed: listed,
    partsReceived: options.received ?? listed,
  };
}

const target = (msn: number, part?: number): BlockingTarget => ({ msn, part });

describe('Advance Part Limit', () => {
  it.each([
    [0.333, 9],
    [0.4, 7],
    [0.5, 6],
    [0.99, 3],
    [1, 3],
    [2, 3],
  ])('PART-TARGET %s s: %i parts ahead allowed, one more refused', (partTarget, parts) => {
    expect(Math.floor(advancePartLimit(partTarget))).toBe(parts);
  });
});

describe('blocking reload decision', () => {
  // [what, playlist end, request, part target, expected]
  const rows: Array<[string, PlaylistEnd, BlockingTarget, number, 'ready' | 'wait' | 'refuse']> = [
    ['an older segment', end(), target(7), 0.333, 'ready'],
    ['the last segment, whole', end(), target(10), 0.333, 'ready'],
    ['a part of the last segment', end(), target(10, 5), 0.333, 'ready'],
    ['a part of an older segment', end(), target(9, 0), 0.333, 'ready'],
    ['part N+1 of an older segment (= the first of a listed one)', end(), target(9, 6), 0.333, 'ready'],
    ['part N+1 of the last segment, nothing after it yet (hls.js at every boundary)', end(), target(10, 6), 0.333, 'wait'],
    ['part N+1 of the last segment, with part tagets of a second and more', end(), target(10, 6), 2, 'wait'],
    ['part N+1 of the last segment, the next segment\'s first part listed', end({ listed: 1 }), target(10, 6), 0.333, 'ready'],
    ['part N+1 of the last segment, the next first part received but not listed (new session)', end({ received: 1 }), target(10, 6), 0.333, 'wait'],
    ['part N+2 of the last segment = part 1 of the next, one listed', end({ listed: 1 }), target(10, 7), 0.333, 'wait'],
    ['part N+2 of the last segment, two listed', end({ listed: 2 }), target(10, 7), 0.333, 'ready'],
    ['a part of the last segment whose parts are unknown (a restarted edge)', end({ known: false }), target(10, 9), 0.333, 'ready'],
    ['the next segment whole', end({ listed: 3 }), target(11), 0.333, 'wait'],
    ['the segment after next, whole', end(), target(12), 0.333, 'wait'],
    ['three segments on', end({ listed: 5 }), target(13), 0.333, 'refuse'],
    ['three segments on, with a part', end(), target(13, 0), 0.333, 'refuse'],
    ['a listed pending part', end({ listed: 3 }), target(11, 2), 0.333, 'ready'],
    ['the hinted part', end({ listed: 3 }), target(11, 3), 0.333, 'wait'],
    ['nine parts past the last (0.333 s parts)', end({ listed: 3 }), target(11, 11), 0.333, 'wait'],
    ['ten parts past the last (0.333 s parts)', end({ listed: 3 }), target(11, 12), 0.333, 'refuse'],
    ['nine parts past, counted from parts received but not listed', end({ listed: 0, received: 3 }), target(11, 11), 0.333, 'wait'],
    ['seven parts past (0.4 s parts)', end({ listed: 3 }), target(11, 9), 0.4, 'wait'],
    ['eight parts past (0.4 s parts)', end({ listed: 3 }), target(11, 10), 0.4, 'refuse'],
    ['three parts past (2 s part target)', end(), target(11, 2), 2, 'wait'],
    ['four parts past (2 s part target)', end(), target(11, 3), 2, 'refuse'],
    ['the segment after next, its first part', end(), target(12, 0), 0.333, 'wait'],
    ['the segment after next, its ninth part (remaining parts of the next unknown: counted as none)', end(), target(12, 8), 0.333, 'wait'],
    ['the segment after next, its tenth part', end(), target(12, 9), 0.333, 'refuse'],
    ['anything of an ended playlist', end({ ended: true }), target(40, 3), 0.333, 'ready'],
  ];

  it.each(rows)('%s', (_what, playlistEnd, request, partTarget, expected) => {
    expect(decideBlocking(playlistEnd, request, partTarget).kind).toBe(expected);
  });

  // Every request against every state: the properties the table's rows are instances of.
  const requests: BlockingTarget[] = [];
  for (let msn = 6; msn <= 14; msn++) {
    requests.push(target(msn));
    for (let part = 0; part <= 14; part++) requests.push(target(msn, part));
  }
  const states: Array<{ listed: number; received: number; known: boolean }> = [];
  for (const known of [true, false]) for (let received = 0; received <= 6; received++) for (let listed = 0; listed <= received; listed += Math.max(1, received)) states.push({ listed, received, known });

  /** A request's position as parts from segment 0 (6 parts a segment), whole segments as their last part. */
  const position = (request: BlockingTarget) => request.msn * 6 + (request.part ?? 5);

  it.each([0.333, 0.4, 1, 2])('never refuses part N+1 of a finished segment, and answers it only once the next first part is listed (PART-TARGET %s)', (partTarget) => {
    for (const state of states.filter((s) => s.known)) {
      const decision = decideBlocking(end(state), target(10, 6), partTarget).kind;
      expect(decision, JSON.stringify(state)).toBe(state.listed >= 1 ? 'ready' : 'wait');
    }
  });

  it.each([0.333, 0.4, 1, 2])('a ready answer holds what was asked for or later, never older (PART-TARGET %s)', (partTarget) => {
    for (const state of states.filter((s) => s.known)) {
      // The playlist ends with the last listed part of segment 11, or segment 10 whole.
      const playlistEnds = state.listed > 0 ? 11 * 6 + state.listed - 1 : 10 * 6 + 5;
      for (const request of requests) {
        if (decideBlocking(end(state), request, partTarget).kind !== 'ready') continue;
        expect(position(request), `${JSON.stringify(request)} in ${JSON.stringify(state)}`).toBeLessThanOrEqual(playlistEnds);
      }
    }
  });

  it.each([0.333, 0.4, 1, 2])('whether pending parts are listed yet never turns a held request into a refused one (PART-TARGET %s)', (partTarget) => {
    for (const request of requests) {
      for (const known of [true, false]) {
        for (let received = 0; received <= 6; received++) {
          const unlisted = decideBlocking(end({ listed: 0, received, known }), request, partTarget).kind === 'refuse';
          const listed = decideBlocking(end({ listed: received, received, known }), request, partTarget).kind === 'refuse';
          expect(unlisted, `${JSON.stringify(request)}, ${received} received`).toBe(listed);
        }
      }
    }
  });

  it.each([0.333, 0.4, 1, 2])('as parts come, a request goes from held to answered, never back and never to refused (PART-TARGET %s)', (partTarget) => {
    for (const request of requests) {
      let seen: 'wait' | 'ready' | 'refuse' | undefined;
      for (let listed = 0; listed <= 6; listed++) {
        const decision = decideBlocking(end({ listed }), request, partTarget).kind;
        if (seen === 'ready') expect(decision, JSON.stringify(request)).toBe('ready');
        if (seen === 'wait') expect(decision, JSON.stringify(request)).not.toBe('refuse');
        seen = decision;
      }
    }
  });
});
