import { describe, expect, it } from 'vitest';
import { developmentListenRefusal, developmentRequestRefusal } from '../../edge/development-secret.ts';
import { DEVELOPMENT_INGEST_SECRET } from '../../shared/write-api.ts';

describe('the development ingest secret, on a local development edge only', () => {
  it.each([
    { secret: DEVELOPMENT_INGEST_SECRET, host: '127.0.0.1', starts: true },
    { secret: DEVELOPMENT_INGEST_SECRET, host: 'localhost', starts: true },
    { secret: DEVELOPMENT_INGEST_SECRET, host: '::1', starts: true },
    { secret: DEVELOPMENT_INGEST_SECRET, host: '0.0.0.0', starts: false },
    { secret: DEVELOPMENT_INGEST_SECRET, host: '::', starts: false },
    { secret: DEVELOPMENT_INGEST_SECRET, host: '192.0.2.2', starts: false },
    { secret: DEVELOPMENT_INGEST_SECRET, host: 'edge.example.com', starts: false },
    { secret: 'a-random-secret-0123456789', host: '0.0.0.0', starts: true },
    { secret: undefined, host: '0.0.0.0', starts: true },
  ])('a Node or Deno edge with secret $secret on $host starts: $starts', ({ secret, host, starts }) => {
    const refusal = developmentListenRefusal(secret, host);
    if (starts) expect(refusal).toBeUndefined();
    else expect(refusal).toMatch(new RegExp(`^edge: INGEST_SECRET is the public development value .* ${host.replaceAll('.', '\\.')}, .*random value`));
  });

  it.each([
    { name: 'wrangler dev on 127.0.0.1', url: 'http://127.0.0.1:8080/_ingest/objects/x', headers: { 'cf-connecting-ip': '127.0.0.1' }, peer: undefined, local: true },
    { name: 'a Node edge on localhost from a loopback peer', url: 'http://localhost:8080/_ingest/objects/x', headers: {}, peer: '::ffff:127.0.0.1', local: true },
    { name: 'a workers.dev or custom-domain host', url: 'https://edge.example.com/_ingest/objects/x', headers: { 'cf-connecting-ip': '203.0.113.9' }, peer: undefined, local: false },
    { name: 'a loopback host from a remote client (cf-connecting-ip)', url: 'http://127.0.0.1:8080/_ingest/objects/x', headers: { 'cf-connecting-ip': '203.0.113.9' }, peer: undefined, local: false },
    { name: 'a loopback host from a remote peer', url: 'http://localhost:8080/_ingest/objects/x', headers: {}, peer: '203.0.113.9', local: false },
    // A client's own cf-connecting-ip cannot make a remote peer local: the peer is checked too.
    { name: 'a remote peer claiming cf-connecting-ip 127.0.0.1', url: 'http://localhost:8080/_ingest/objects/x', headers: { 'cf-connecting-ip': '127.0.0.1' }, peer: '203.0.113.9', local: false },
    { name: 'through a proxy (x-forwarded-for)', url: 'http://127.0.0.1:8080/_ingest/objects/x', headers: { 'x-forwarded-for': '203.0.113.9' }, peer: '127.0.0.1', local: false },
    { name: 'through a proxy (forwarded)', url: 'http://127.0.0.1:8080/_ingest/objects/x', headers: { forwarded: 'for=127.0.0.1' }, peer: '127.0.0.1', local: false },
    { name: 'through a proxy (x-real-ip)', url: 'http://127.0.0.1:8080/_ingest/objects/x', headers: { 'x-real-ip': '127.0.0.1' }, peer: '127.0.0.1', local: false },
    { name: 'a LAN address', url: 'http://192.0.2.2:8080/_ingest/objects/x', headers: {}, peer: '192.0.2.7', local: false },
  ])('a write by it via $name is local: $local', ({ url, headers, peer, local }) => {
    const refusal = developmentRequestRefusal({ url, headers: new Headers(headers), peerAddress: peer });
    if (local) expect(refusal).toBeUndefined();
    else expect(refusal).toMatch(/development value .*set INGEST_SECRET on the edge and the sidecar to the same random value/);
  });
});
