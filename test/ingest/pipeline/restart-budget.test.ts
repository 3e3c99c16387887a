import { describe, expect, it } from 'vitest';
import { RESTART_PERIOD_MS, RestartBudget } from '../../../ingest/pipeline/restart-budget.ts';

describe('encoder restart budget', () => {
  it('doubles the delay from 250 ms and gives up at the sixth failure within a minute', () => {
    const budget = new RestartBudget();
    const decisions = [0, 1_000, 2_000, 3_000, 4_000, 5_000].map((at) => budget.next(at));
    expect(decisions.slice(0, 5)).toEqual([250, 500, 1_000, 2_000, 4_000].map((delayMs, index) => ({ giveUp: false, delayMs, restart: index + 1, periodSeconds: 60 })));
    expect(decisions[5]).toEqual({ giveUp: true, failures: 6, periodSeconds: 60 });
  });

  it('forgets failures older than the period: a stream that fails now and then keeps restarting', () => {
    const budget = new RestartBudget();
    for (let i = 0; i < 20; i++) expect(budget.next(i * (RESTART_PERIOD_MS / 4))).toMatchObject({ giveUp: false });
  });

  it('never waits longer than 8 s', () => {
    const budget = new RestartBudget();
    // Failures spread so that the window keeps four: the delay stays at its fifth step at most.
    const delays = Array.from({ length: 30 }, (_, i) => budget.next(i * 14_000)).map((decision) => (decision.giveUp ? Infinity : decision.delayMs));
    expect(Math.max(...delays)).toBeLessThanOrEqual(8_000);
  });
});
