import { describe, expect, it } from 'vitest';
import { isLoopbackHost } from '../../shared/loopback.ts';

describe('isLoopbackHost', () => {
  it.each([
    ['localhost', true], ['LOCALHOST', true], ['edge.localhost', true], ['127.0.0.1', true], ['127.255.3.4', true],
    ['[::1]', true], ['::1', true], ['::ffff:127.0.0.1', true],
    ['127.0.0.1.example.com', false], ['localhost.example.com', false], ['128.0.0.1', false], ['127.0.0.256', false],
    ['0.0.0.0', false], ['10.0.0.1', false], ['[::]', false], ['example.com', false], ['', false],
  ])('%s -> %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});
