/** Low-latency HLS through the edge app with its in-process live state (the Node and Deno edges). */
import { edgeAppForTest, TEST_SECRET } from '../../helpers/edge-app.ts';
import { lowLatencyEdgeTests } from '../../helpers/low-latency-scenario.ts';

const { app } = edgeAppForTest({ lowLatency: true });
// The client's address as @hono/node-server passes it: the socket's peer in c.env.incoming.
lowLatencyEdgeTests(async (path, init, client) => app.request(path, init, client ? { incoming: { socket: { remoteAddress: client } } } : undefined), TEST_SECRET, 'node');
