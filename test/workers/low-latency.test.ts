/**
 * Low-latency HLS inside the Workers runtime: the live state in a real Durable Object (one per
 * stream), one call per held viewer as on Workers, over the real R2 binding.
 */
import { env } from 'cloudflare:workers';
import { createWorkerApp, type Env } from '../../edge/worker.ts';
import { lowLatencyEdgeTests } from '../helpers/low-latency-scenario.ts';

const bindings = env as unknown as Env;
const secret = 'workers-ingest-secret';
const app = createWorkerApp({ ...bindings, INGEST_SECRET: secret });
// The client's address as Cloudflare passes it: cf-connecting-ip.
lowLatencyEdgeTests(async (path, init, client) => app.request(path, client ? { ...init, headers: { ...(init?.headers as Record<string, string> | undefined), 'cf-connecting-ip': client } } : init), secret, 'workerd');
