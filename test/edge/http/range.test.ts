import { describe, expect, it } from 'vitest';
import { decideRange } from '../../../edge/http/range.ts';

describe('decideRange (object of 1000 bytes)', () => {
  it.each([
    { header: undefined, expected: { kind: 'whole' } },
    { header: 'bytes=0-99', expected: { kind: 'partial', offset: 0, length: 100 } },
    { header: 'bytes=900-', expected: { kind: 'partial', offset: 900, length: 100 } },
    { header: 'bytes=-100', expected: { kind: 'partial', offset: 900, length: 100 } },
    { header: 'bytes=-5000', expected: { kind: 'partial', offset: 0, length: 1000 } },
    { header: 'bytes=990-5000', expected: { kind: 'partial', offset: 990, length: 10 } },
    { header: 'bytes=1000-', expected: { kind: 'unsatisfiable' } },
    { header: 'bytes=-0', expected: { kind: 'unsatisfiable' } },
    { header: 'bytes=5-2', expected: { kind: 'whole' } },
    { header: 'bytes=0-1,5-6', expected: { kind: 'whole' } },
    { header: 'items=0-1', expected: { kind: 'whole' } },
    { header: 'bytes=-', expected: { kind: 'whole' } },
    { header: 'bytes=99999999999999999999-', expected: { kind: 'unsatisfiable' } },
  ])('$header', ({ header, expected }) => {
    expect(decideRange(header, 1000)).toEqual(expected);
  });
});
