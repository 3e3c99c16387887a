import { describe, expect, it } from 'vitest';
import { ByteBudget } from '../../../ingest/rtmp/byte-budget.ts';
import { ConnectionCounter, connectionSource } from '../../../ingest/rtmp/connection-counter.ts';

describe('connection sources', () => {
  it.each([
    { input: '203.0.113.7', expected: '203.0.113.7' },
    { input: '::ffff:203.0.113.7', expected: '203.0.113.7' },
    { input: '::FFFF:127.0.0.1', expected: '127.0.0.1' },
    { input: '2001:db8:1:2:3:4:5:6', expected: '2001:db8:1:2::/64' },
    { input: '2001:db8:1:2::99', expected: '2001:db8:1:2::/64' },
    { input: '2001:0db8:0001:0002:ffff::1', expected: '2001:db8:1:2::/64' },
    { input: '2001:db8::1', expected: '2001:db8:0:0::/64' },
    { input: '::1', expected: '0:0:0:0::/64' },
    { input: 'fe80::1%eth0', expected: 'fe80:0:0:0::/64' },
    { input: '::2.3.4.5', expected: '0:0:0:0::/64' },
  ])('$input counts as $expected', ({ input, expected }) => {
    expect(connectionSource(input)).toBe(expected);
  });
});

describe('connection counter', () => {
  it('refuses the connection past the per-source limit, and admits again after a release', () => {
    const counter = new ConnectionCounter({ maxConnections: 100, maxConnectionsPerSource: 2 });
    const first = counter.admit('2001:db8:1:2::1');
    expect(first).toEqual({ admitted: true, source: '2001:db8:1:2::/64' });
    expect(counter.admit('2001:db8:1:2::2')).toMatchObject({ admitted: true });
    // Another address in the same /64 is the same source.
    expect(counter.admit('2001:db8:1:2::3')).toEqual({ admitted: false, reason: 'per-ip-limit' });
    expect(counter.admit('2001:db8:1:3::3')).toMatchObject({ admitted: true });
    counter.release('2001:db8:1:2::/64');
    expect(counter.admit('2001:db8:1:2::3')).toMatchObject({ admitted: true });
    expect(counter.open).toBe(3);
  });

  it('refuses past the total limit whatever the source', () => {
    const counter = new ConnectionCounter({ maxConnections: 3, maxConnectionsPerSource: 10 });
    for (const address of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) expect(counter.admit(address)).toMatchObject({ admitted: true });
    expect(counter.admit('10.0.0.4')).toEqual({ admitted: false, reason: 'connection-limit' });
    counter.release('10.0.0.2');
    expect(counter.admit('10.0.0.4')).toMatchObject({ admitted: true });
  });
});

describe('byte budget', () => {
  it('reserves up to its limit and never below zero', () => {
    const budget = new ByteBudget(100);
    expect(budget.reserve(60)).toBe(true);
    expect(budget.reserve(41)).toBe(false);
    expect(budget.used).toBe(60);
    budget.release(200);
    expect(budget.used).toBe(0);
  });
});
