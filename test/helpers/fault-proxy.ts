/**
 * A loopback HTTP proxy that puts real faults on a real path: in front of the edge's write API
 * (or an S3-compatible server) it can answer writes with 503s, delay them, or pass them through.
 * The storage behind it stays real; only what a failing network or store would do is added.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';

export type FaultMode = { kind: 'pass' } | { kind: 'fail'; status: number } | { kind: 'delay'; ms: number };

export interface FaultProxy {
  url: string;
  mode: FaultMode;
  /** Writes (PUT, DELETE) answered with a fault or delayed, so far. */
  faulted: number;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string, isWrite: (method: string) => boolean = (method) => method === 'PUT' || method === 'DELETE'): Promise<FaultProxy> {
  const upstream = new URL(target);
  const proxy: FaultProxy = { url: '', mode: { kind: 'pass' }, faulted: 0, close: () => Promise.resolve() };
  const server: Server = createServer((incoming, outgoing) => {
    const mode = proxy.mode;
    const forward = () => {
      const request = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: { ...incoming.headers, host: upstream.host } },
        (response) => {
          outgoing.writeHead(response.statusCode ?? 502, response.headers);
          response.pipe(outgoing);
        },
      );
      request.on('error', () => {
        if (!outgoing.headersSent) outgoing.writeHead(502);
        outgoing.end();
      });
      incoming.pipe(request);
    };
    if (mode.kind === 'pass' || !isWrite(incoming.method ?? 'GET')) return forward();
    proxy.faulted += 1;
    if (mode.kind === 'delay') {
      setTimeout(forward, mode.ms);
      return;
    }
    incoming.resume();
    incoming.on('end', () => {
      outgoing.writeHead(mode.status, { 'content-type': 'application/json' });
      outgoing.end(JSON.stringify({ error: 'fault injected by the test proxy' }));
    });
  });
  // WebSocket upgrades (the sidecar's live channel) pass through untouched: they carry parts, not storage writes.
  // Upgraded sockets leave the server's HTTP bookkeeping (closeAllConnections does not see them),
  // yet server.close waits for them: kept here to be destroyed on close.
  const upgraded = new Set<{ destroy(): void }>();
  server.on('upgrade', (incoming, socket, head) => {
    upgraded.add(socket);
    const upstreamSocket = connect(Number(upstream.port), upstream.hostname, () => {
      const headers = Object.entries({ ...incoming.headers, host: upstream.host }).map(([name, value]) => `${name}: ${String(value)}\r\n`).join('');
      upstreamSocket.write(`${incoming.method} ${incoming.url} HTTP/1.1\r\n${headers}\r\n`);
      upstreamSocket.write(head);
      upstreamSocket.pipe(socket).pipe(upstreamSocket);
    });
    upstreamSocket.on('error', () => socket.destroy());
    socket.on('error', () => upstreamSocket.destroy());
    socket.once('close', () => {
      upgraded.delete(socket);
      upstreamSocket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      for (const socket of upgraded) socket.destroy();
      server.close(() => resolve());
    });
  return proxy;
}
