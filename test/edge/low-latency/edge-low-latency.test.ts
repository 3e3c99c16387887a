/** Low-latency HLS through the edge app with its in-process live state (the Node and Deno edges). */
import { edgeAppForTest, TEST_SECRET } from '../../helpers/edge-app.ts';
import { lowLatencyEdgeTests } from '../../helpers/low-latency-scenario.ts';

const { app } = edgeAppForTest({ lowLatency: true });
lowLatencyEdgeTests(async (path, init) => app.request(path, init), TEST_SECRET, 'node');
