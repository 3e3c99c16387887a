import { describe, expect, it } from 'vitest';
import { publishRequestProblem } from '../../../ingest/pipeline/publish-request-check.ts';

describe('what an RTMP publish must look like before its key is looked at', () => {
  it.each([
    { name: 'the live application', request: { app: 'live', name: 'k3x9', query: {} } },
    { name: "the blog's stream application", request: { app: 'stream', name: 'colors', query: {} } },
    { name: 'a short plain query', request: { app: 'live', name: 'k3x9', query: { obs: '30.1', mode: ['a', 'b'] } } },
  ])('accepts $name', ({ request }) => {
    expect(publishRequestProblem(request)).toBeUndefined();
  });

  it.each([
    { name: 'no stream name', request: { app: 'live', name: '', query: {} }, code: 'invalid-name' },
    { name: 'no application', request: { app: '', name: 'k3x9', query: {} }, code: 'invalid-name' },
    { name: 'another application', request: { app: 'vod', name: 'k3x9', query: {} }, code: 'unknown-application' },
    { name: 'a query value with a slash', request: { app: 'live', name: 'k3x9', query: { next: '../x' } }, code: 'invalid-query' },
    { name: 'a query key with a space', request: { app: 'live', name: 'k3x9', query: { 'a b': '1' } }, code: 'invalid-query' },
    { name: 'an overlong query value', request: { app: 'live', name: 'k3x9', query: { a: 'x'.repeat(129) } }, code: 'invalid-query' },
  ])('refuses $name with a reason', ({ request, code }) => {
    const problem = publishRequestProblem(request);
    expect(problem?.code).toBe(code);
    expect(problem?.reason.length).toBeGreaterThan(10);
  });

  it('names the application to publish to', () => {
    expect(publishRequestProblem({ app: 'vod', name: 'k3x9', query: {} })?.reason).toBe('unknown application (publish to rtmp://HOST/live/KEY)');
  });
});
