import { describe, expect, it } from 'vitest';
import { renderCdnCacheConfig, tallyCacheLog } from '../../../scripts/bench/cdn-cache.ts';

describe('the CDN stand-in of load runs', () => {
  it('caches by the origin\'s Cache-Control, collapses misses, and listens on loopback only', () => {
    const config = renderCdnCacheConfig({ dir: '/tmp/x', port: 8081, origin: 'http://127.0.0.1:8787' });
    expect(config).toContain('listen 127.0.0.1:8081');
    expect(config).toContain('server 127.0.0.1:8787;');
    expect(config).toContain('proxy_cache_lock on;');
    // Nothing overrides the origin's headers: no proxy_cache_valid, no ignored Cache-Control.
    expect(config).not.toMatch(/proxy_cache_valid|proxy_ignore_headers/);
    expect(config).not.toContain('user ');
    expect(renderCdnCacheConfig({ dir: '/tmp/x', port: 1, origin: 'http://127.0.0.1:2', user: 'nobody nogroup' })).toContain('user nobody nogroup;');
  });

  it('counts what reached the origin from the access log\'s cache statuses', () => {
    const log = ['MISS 200 /live/a/source/index.m3u8', 'HIT 200 /live/a/source/index.m3u8', 'UPDATING 200 /live/a/source/index.m3u8', 'EXPIRED 200 /live/a/source/index.m3u8', '- 404 /nope', 'HIT 200 /live/a/source/x-0.m4s', ''].join('\n');
    expect(tallyCacheLog(log)).toEqual({ requests: 6, toOrigin: 3, byStatus: { MISS: 1, HIT: 2, UPDATING: 1, EXPIRED: 1, '-': 1 } });
    expect(tallyCacheLog('')).toEqual({ requests: 0, toOrigin: 0, byStatus: {} });
  });
});
