/**
 * The sidecar's live channel on the Node edge: a real server (@hono/node-server with `ws`), real
 * WebSocket clients, the in-process live state (see test/helpers/live-channel-scenario.ts).
 */
import type { AddressInfo } from 'node:net';
import { serve, upgradeWebSocket, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { createApp } from '../../edge/app.ts';
import { InProcessCoordinator } from '../../edge/low-latency/coordinator.ts';
import { abandonedBroadcastEnder } from '../../edge/runtime/broadcast-ending.ts';
import { MemoryObjectStore } from '../../shared/storage/memory-object-store.ts';
import { liveChannelTests, testChannel, type TestChannel } from '../helpers/live-channel-scenario.ts';

const secret = 'node-channel-secret';
let server: ServerType;
let base = '';

beforeAll(async () => {
  const store = new MemoryObjectStore();
  const app = createApp({ store, ingestSecret: secret, lowLatency: new InProcessCoordinator(store, { upgradeWebSocket, endAbandoned: abandonedBroadcastEnder(store, {}) }), assets: { hlsJsVersion: '1', hlsJsSource: '', dashJsVersion: '1', dashJsSource: '' } });
  server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0, websocket: { server: new WebSocketServer({ noServer: true }) } });
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('live channel, Node edge', () => {
  liveChannelTests(
    {
      request: (path, init) => fetch(`${base}${path}`, init),
      // `ws` as the client: a refused upgrade shows its HTTP status (a WHATWG WebSocket hides it).
      open: (path, authorization) =>
        new Promise<TestChannel | Response>((resolve) => {
          const socket = new WebSocket(`${base.replace('http', 'ws')}${path}`, { headers: authorization ? { authorization } : {} });
          const channel = testChannel(socket as unknown as globalThis.WebSocket);
          socket.once('open', () => resolve(channel));
          socket.once('unexpected-response', (_request, response) => {
            let body = '';
            response.on('data', (chunk: Buffer) => (body += chunk.toString()));
            response.on('end', () => resolve(new Response(body, { status: response.statusCode })));
          });
          socket.on('error', () => undefined);
        }),
    },
    secret,
    'nodechan',
  );
});
