/**
 * The Node edge as it runs (`edge/node-server.ts` in its own process, real HTTP): it refuses the
 * development ingest secret beyond loopback, and cuts uploads at the limit while they stream.
 * The Deno edge's start-up refusal too (the `deno` binary from npm).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CACHE_MB } from '../../edge/runtime/memory-cache-setting.ts';
import { OLD_GENERATION_FLAG } from '../../edge/runtime/node-heap.ts';
import { partAnnouncementHeaders } from '../../shared/low-latency.ts';
import { DEVELOPMENT_INGEST_SECRET, WRITE_API_MAX_BYTES } from '../../shared/write-api.ts';
import { freePort, within } from '../helpers/network.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SERVER = join(ROOT, 'edge', 'node-server.ts');
const MIB = 1024 * 1024;

function startEdge(args: string[], secret: string, storageDir: string): ChildProcess {
  return spawn(process.execPath, [SERVER, '--storage-dir', storageDir, ...args], { env: { ...process.env, INGEST_SECRET: secret }, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function listening(child: ChildProcess): Promise<void> {
  await within('the Node edge to listen', 20_000, new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (data: Buffer) => data.toString().includes(' on http://') && resolve());
    child.once('exit', (code) => reject(new Error(`the Node edge exited (${code})`)));
  }));
}

/** A raw HTTP request (fetch will not send a Host header of our choosing). */
function send(port: number, path: string, headers: Record<string, string>, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'PUT', headers }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode!, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The process's peak resident memory so far, from the kernel. */
function peakRssBytes(pid: number): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

/** The Deno edge with only what it needs to reach its start-up check (no S3 settings: it would exit on those after). */
function startDenoEdge(host: string, port: number, secret: string): ChildProcess {
  return spawn(join(ROOT, 'node_modules', '.bin', 'deno'), ['run', '--allow-net', '--allow-env', '--allow-read', join(ROOT, 'edge', 'deno-server.ts')], {
    env: { ...process.env, EDGE_HOST: host, EDGE_PORT: String(port), INGEST_SECRET: secret, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describe('the Node and Deno edge servers', () => {
  it.each([
    { runtime: 'Node', host: '0.0.0.0' },
    { runtime: 'Node', host: '::' },
    { runtime: 'Deno', host: '0.0.0.0' },
  ])('$runtime refuses to start with the development secret on $host, in one line', async ({ runtime, host }) => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-node-'));
    try {
      const port = await freePort();
      const child = runtime === 'Node' ? startEdge(['--host', host, '--port', String(port)], DEVELOPMENT_INGEST_SECRET, dir) : startDenoEdge(host, port, DEVELOPMENT_INGEST_SECRET);
      let stderr = '';
      child.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
      const code = await within('the Node edge to exit', 20_000, new Promise<number | null>((resolve) => child.once('exit', resolve)));
      expect(code).toBe(1);
      expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^edge: INGEST_SECRET is the public development value .*random value/)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('Node, on loopback', () => {
    let dir: string;
    const edges: ChildProcess[] = [];
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'edge-node-'));
    });
    afterAll(() => {
      for (const edge of edges) edge.kill();
      rmSync(dir, { recursive: true, force: true });
    });

    it('restarts itself in place into its V8 old-generation setting, and says so in its start line', async () => {
      const port = await freePort();
      const edge = startEdge(['--port', String(port)], 'node-edge-test-secret-0123456789', join(dir, 'heap'));
      edges.push(edge);
      let stdout = '';
      edge.stdout!.on('data', (data: Buffer) => (stdout += data.toString()));
      await listening(edge);
      // The same process (execve), now with the flag: what a supervisor watching the pid sees.
      const commandLine = readFileSync(`/proc/${edge.pid}/cmdline`, 'utf8').split('\0');
      expect(commandLine).toContain(OLD_GENERATION_FLAG);
      expect(commandLine).toContain(SERVER);
      expect(stdout).toContain(`(V8: ${OLD_GENERATION_FLAG})`);
      expect(stdout).toContain(`memory cache ${DEFAULT_CACHE_MB} MB`);
    });

    it('takes the development secret from this machine only: a request naming another host, or through a proxy, is refused', async () => {
      const port = await freePort();
      const edge = startEdge(['--host', '127.0.0.1', '--port', String(port)], DEVELOPMENT_INGEST_SECRET, join(dir, 'dev'));
      edges.push(edge);
      await listening(edge);
      const write = (host: string, extra: Record<string, string> = {}) =>
        send(port, '/_ingest/objects/streams/colors/index.m3u8', { host, authorization: `Bearer ${DEVELOPMENT_INGEST_SECRET}`, 'content-type': 'application/vnd.apple.mpegurl', ...extra }, '#EXTM3U\n');
      expect((await write(`127.0.0.1:${port}`)).status).toBe(201);
      for (const refused of [await write('edge.example.com'), await write(`localhost:${port}`, { 'x-forwarded-for': '203.0.113.9' })]) {
        expect(refused.status).toBe(403);
        expect(JSON.parse(refused.text)).toEqual({ error: expect.stringContaining('set INGEST_SECRET on the edge and the sidecar to the same random value') });
      }
    });

    it.each([
      { kind: 'object', key: 'streams/colors/source/abcdefgh1-3.m4s', headers: {}, limit: WRITE_API_MAX_BYTES },
      {
        kind: 'part',
        key: 'streams/colors/source/abcdefgh1-3.p0.m4s',
        headers: partAnnouncementHeaders({ msn: 3, duration: 0.333, independent: true, next: 'abcdefgh1-3.p1.m4s', partTarget: 0.334 }),
        limit: 8 * MIB,
      },
    ])('refuses a chunked $kind larger than its limit with 413, having read little more than the limit and stored nothing', async ({ key, headers, limit }) => {
      const port = await freePort();
      const storageDir = join(dir, 'limits');
      const secret = 'node-edge-test-secret-0123456789';
      const edge = startEdge(['--port', String(port)], secret, storageDir);
      edges.push(edge);
      await listening(edge);
      const peakBefore = peakRssBytes(edge.pid!);
      // Three times the limit, made as it is sent, with no Content-Length (chunked).
      const size = 3 * limit;
      const chunk = new Uint8Array(MIB);
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= size) return controller.close();
          sent += chunk.byteLength;
          controller.enqueue(chunk);
        },
      });
      const init: RequestInit & { duplex: 'half' } = { method: 'PUT', headers: { authorization: `Bearer ${secret}`, 'content-type': 'video/mp4', ...headers }, body, duplex: 'half' };
      const response = await fetch(`http://127.0.0.1:${port}/_ingest/objects/${key}`, init);
      expect(response.status).toBe(413);
      expect(await response.json()).toEqual({ error: expect.stringContaining(`limited to ${limit} bytes`) });
      // Before: the whole upload was read (and held) first. Socket buffers on loopback hold a few MiB more.
      expect(sent).toBeLessThan(limit + 24 * MIB);
      expect(peakRssBytes(edge.pid!) - peakBefore).toBeLessThan(limit * 2 + 32 * MIB);
      const stored = await fetch(`http://127.0.0.1:${port}/_ingest/objects/${key}`, { headers: { authorization: `Bearer ${secret}` } });
      expect(stored.status).toBe(404);
      await stored.body?.cancel();
    });
  });
});
