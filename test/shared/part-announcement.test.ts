import { describe, expect, it } from 'vitest';
import { parsePartAnnouncement, partAnnouncementHeaders, type PartAnnouncement } from '../../shared/low-latency.ts';

const PART: PartAnnouncement = { msn: 3, duration: 0.333, independent: true, next: 'abcdefgh1-3.p1.m4s', partTarget: 0.334 };
const read = (headers: Record<string, string>) => parsePartAnnouncement((name) => headers[name]);

describe('a part announcement in HTTP headers (the write API)', () => {
  it('reads back what was written, with and without the final-cut word', () => {
    expect(read(partAnnouncementHeaders(PART))).toEqual({ ok: true, part: PART });
    const last = { ...PART, next: 'abcdefgh1-4.p0.m4s', endsSegment: true };
    expect(partAnnouncementHeaders(last)['x-part-ends-segment']).toBe('1');
    expect(read(partAnnouncementHeaders(last))).toEqual({ ok: true, part: last });
  });

  it('refuses x-part-ends-segment other than 1, naming it', () => {
    const parsed = read({ ...partAnnouncementHeaders(PART), 'x-part-ends-segment': 'yes' });
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toContain('x-part-ends-segment');
  });
});
