import { describe, expect, it } from 'vitest';
import { timeRoutes } from '../../../edge/routes/time.ts';
import { edgeAppForTest } from '../../helpers/edge-app.ts';

describe('GET /time', () => {
  it("answers the clock in ISO 8601, never cached (a live MPD's UTCTiming reads it)", async () => {
    const routes = timeRoutes(() => Date.parse('2026-11-24T12:00:20.125Z'));
    const response = await routes.request('/time');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('2026-11-24T12:00:20.125Z');
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('is served by the edge app to players on any origin', async () => {
    const { app } = edgeAppForTest();
    const before = Date.now();
    const response = await app.request('/time', { headers: { origin: 'https://player.example' } });
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const time = Date.parse(await response.text());
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(Date.now());
  });
});
