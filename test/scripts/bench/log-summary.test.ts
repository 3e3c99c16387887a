import { describe, expect, it } from 'vitest';
import { describeLogSummary, summarizeLog } from '../../../scripts/bench/log-summary.ts';

describe('log summary', () => {
  it('counts messages alike but for their numbers, the commonest first, pino JSON or plain', () => {
    const lines = [
      '{"level":40,"stream":"s1","msg":"the source came slower than real time (1.3 s of media)"}',
      '{"level":40,"stream":"s2","msg":"the source came slower than real time (0.8 s of media)"}',
      '{"level":50,"msg":"upload failed"}',
      'a plain line 3',
      'a plain line 4',
      'a plain line 5',
    ];
    const summary = summarizeLog(lines);
    expect(summary).toEqual({
      lines: 6,
      top: [
        ['a plain line N', 3],
        ['the source came slower than real time (N s of media)', 2],
        ['upload failed', 1],
      ],
    });
    expect(describeLogSummary(summary)).toBe('6 lines; 3 × a plain line N; 2 × the source came slower than real time (N s of media); 1 × upload failed');
    expect(describeLogSummary(summarizeLog([]))).toBe('nothing logged');
  });
});
