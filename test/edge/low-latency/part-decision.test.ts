import { describe, expect, it } from 'vitest';
import { decidePart, partWillNotCome, UNKNOWN_PART, type PartDecision, type PartFacts } from '../../../edge/low-latency/part-decision.ts';

const FILE = 'sessiona1-180000.p3.m4s';
const OTHER = 'sessiona1-180000.p4.m4s';
const WHY = 'storage is a segment or more behind';

describe('decidePart', () => {
  const cases: Array<{ name: string; facts: PartFacts; expected: PartDecision }> = [
    { name: 'held: its bytes', facts: { held: true, hint: undefined, withdrawn: undefined }, expected: { kind: 'serve' } },
    { name: 'held though withdrawn once (it came after all)', facts: { held: true, hint: undefined, withdrawn: WHY }, expected: { kind: 'serve' } },
    { name: 'held and hinted (a newer announcement hints the same name)', facts: { held: true, hint: FILE, withdrawn: undefined }, expected: { kind: 'serve' } },
    { name: 'the hinted part: held until it comes', facts: { held: false, hint: FILE, withdrawn: undefined }, expected: { kind: 'hold' } },
    { name: 'withdrawn: 404 at once with the sidecar\'s reason', facts: { held: false, hint: undefined, withdrawn: WHY }, expected: { kind: 'missing', reason: partWillNotCome(FILE, WHY) } },
    { name: 'withdrawn though still hinted: never held', facts: { held: false, hint: FILE, withdrawn: WHY }, expected: { kind: 'missing', reason: partWillNotCome(FILE, WHY) } },
    { name: 'another part hinted: unknown', facts: { held: false, hint: OTHER, withdrawn: undefined }, expected: { kind: 'missing', reason: UNKNOWN_PART } },
    { name: 'nothing hinted: unknown', facts: { held: false, hint: undefined, withdrawn: undefined }, expected: { kind: 'missing', reason: UNKNOWN_PART } },
  ];
  for (const { name, facts, expected } of cases) {
    it(name, () => expect(decidePart(FILE, facts)).toEqual(expected));
  }

  it('names the part and the reason in a withdrawn part\'s answer', () => {
    expect(partWillNotCome(FILE, WHY)).toBe(`part ${FILE} will not come: ${WHY}`);
  });
});
