/**
 * The sidecar's live channel inside the Workers runtime: a WebSocket accepted by the stream's
 * real Durable Object (Hibernation API), behind the app's credential check, over the real R2
 * binding (see test/helpers/live-channel-scenario.ts).
 */
import { env } from 'cloudflare:workers';
import { describe } from 'vitest';
import { createWorkerApp, type Env } from '../../edge/worker.ts';
import { liveChannelTests, testChannel } from '../helpers/live-channel-scenario.ts';

const bindings = env as unknown as Env;
const secret = 'workers-channel-secret';
const app = createWorkerApp({ ...bindings, INGEST_SECRET: secret });

describe('live channel, Durable Object', () => {
  liveChannelTests(
    {
      request: async (path, init) => app.request(path, init),
      open: async (path, authorization) => {
        const response = await app.request(path, { headers: { upgrade: 'websocket', ...(authorization ? { authorization } : {}) } });
        const socket = response.webSocket;
        if (!socket) return response;
        const channel = testChannel(socket);
        socket.accept();
        return channel;
      },
    },
    secret,
    'dochan',
  );
});
