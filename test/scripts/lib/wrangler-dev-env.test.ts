import { describe, expect, it } from 'vitest';
import { wranglerDevEnv } from '../../../scripts/lib/local-platform.ts';

describe("wrangler dev's environment (scripts/lib/local-platform.ts)", () => {
  it("turns wrangler's local observability collector off (2-3 ms of CPU per request), keeping the caller's environment", () => {
    const env = wranglerDevEnv({ PATH: '/bin', HOME: '/home/x' });
    expect(env).toMatchObject({ X_LOCAL_OBSERVABILITY: 'false', PATH: '/bin', HOME: '/home/x', WRANGLER_SEND_METRICS: 'false', WRANGLER_LOG: 'info' });
  });

  it('leaves the collector on when the caller asks for it', () => {
    expect(wranglerDevEnv({ X_LOCAL_OBSERVABILITY: 'true' }).X_LOCAL_OBSERVABILITY).toBe('true');
  });

  it("logs at the caller's WRANGLER_LOG, else the given level", () => {
    expect(wranglerDevEnv({ WRANGLER_LOG: 'debug' }, 'warn').WRANGLER_LOG).toBe('debug');
    expect(wranglerDevEnv({}, 'warn').WRANGLER_LOG).toBe('warn');
  });
});
