/**
 * How often a stream's encoder may be restarted: backoff doubles from the first delay, and too
 * many failures within the period give up (the publisher is disconnected). Pure: the clock is
 * passed in.
 */
export const RESTART_FIRST_DELAY_MS = 250;
export const RESTART_MAX_DELAY_MS = 8_000;
export const RESTART_PERIOD_MS = 60_000;
export const RESTARTS_PER_PERIOD = 5;

export type RestartDecision =
  | { giveUp: false; delayMs: number; /** This restart's number within the period (1, 2, ...). */ restart: number; periodSeconds: number }
  | { giveUp: true; /** Failures within the period, this one included. */ failures: number; periodSeconds: number };

export class RestartBudget {
  private readonly restarts: number[] = [];

  /** A run failed at `now`: restart it after a delay, or give up. */
  next(now: number): RestartDecision {
    while (this.restarts.length > 0 && this.restarts[0]! < now - RESTART_PERIOD_MS) this.restarts.shift();
    const periodSeconds = RESTART_PERIOD_MS / 1000;
    if (this.restarts.length >= RESTARTS_PER_PERIOD) return { giveUp: true, failures: this.restarts.length + 1, periodSeconds };
    const delayMs = Math.min(RESTART_MAX_DELAY_MS, RESTART_FIRST_DELAY_MS * 2 ** this.restarts.length);
    this.restarts.push(now);
    return { giveUp: false, delayMs, restart: this.restarts.length, periodSeconds };
  }
}
