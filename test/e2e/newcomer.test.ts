/**
 * A newcomer's first hour (issue 19), done as they did it: `npm` on the machine's own Node (Debian
 * 12's Node 20 where it is there), the README's commands as written, real processes throughout.
 * Each case is one of the places where it hurt: a busy port, a sidecar "ready" that was not, a
 * refused key that said "Broken pipe", a player page blaming the network for a 401, numbers that
 * were wrong, stops that left processes behind, wrangler refusing Node 20.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../scripts/lib/local-platform.ts';
import { portIsFree } from '../../scripts/lib/port-check.ts';
import { eventually, freePort } from '../helpers/network.ts';
import { openPlayerPage } from '../helpers/players.ts';
import { saveTestLog } from '../helpers/test-log.ts';

// The machine's own npm and node, as a newcomer has them (not the Node 24 the tests run on).
const NEWCOMER_PATH = existsSync('/usr/bin/npm') ? `/usr/bin:/bin:${process.env.PATH ?? ''}` : (process.env.PATH ?? '');
const log: string[] = [];

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** `npm ARGS` in its own process group (as a terminal's foreground job is), output collected. */
function npm(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn('npm', args, { cwd: PROJECT_ROOT, env: { ...process.env, PATH: NEWCOMER_PATH, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  void exited.then((code) => log.push(`$ npm ${args.join(' ')}  (exit ${code})`, output));
  return { child, output: () => output, exited };
}

async function finished(run: Run, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  const timer = setTimeout(() => signalGroup(run.child, 'SIGKILL'), timeoutMs);
  const code = await run.exited;
  clearTimeout(timer);
  return { code, output: run.output() };
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // Gone already.
  }
}

/** Processes whose command line mentions any of `needles` (this test's folders and ports). */
function processesMentioning(needles: string[]): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let commandLine: string;
    try {
      commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue;
    }
    if (needles.some((needle) => commandLine.includes(needle))) found.push(`${pid}: ${commandLine}`);
  }
  return found;
}

function listenHttp(port: number, host: string): Promise<HttpServer> {
  const server = createHttpServer((_, response) => response.end('somebody else\n'));
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

function listenTcp(port: number, host: string): Promise<Server> {
  const server = createTcpServer((socket) => socket.destroy());
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

afterAll(() => saveTestLog('e2e-newcomer', log));

describe('npm start with a port another program holds', () => {
  it.each([
    { what: 'edge', flag: '--edge-port', occupy: (port: number) => listenHttp(port, '127.0.0.1') },
    { what: 'edge', flag: '--edge-port', occupy: (port: number) => listenHttp(port, '::1') },
    { what: 'RTMP', flag: '--rtmp-port', occupy: (port: number) => listenTcp(port, '0.0.0.0') },
    { what: 'operations API', flag: '--api-port', occupy: (port: number) => listenHttp(port, '127.0.0.1') },
  ])('fails at once, in one line naming the $what port and $flag, starting nothing', async ({ what, flag, occupy }) => {
    const ports = { '--edge-port': await freePort(), '--rtmp-port': await freePort(), '--api-port': await freePort() };
    const busy = ports[flag as keyof typeof ports];
    const other = await occupy(busy);
    const dir = mkdtempSync(join(tmpdir(), 'e2e-newcomer-busy-'));
    try {
      const run = npm(['start', '--', ...Object.entries(ports).flat().map(String)], { STREAMS_FILE: join(dir, 'streams.json'), STATE_DIR: join(dir, 'state'), EDGE_PERSIST_TO: join(dir, 'r2') });
      const { code, output } = await finished(run, 60_000);
      expect(code).not.toBe(0);
      const complaints = output.split('\n').filter((line) => line.includes(String(busy)) && !line.startsWith('>') && !line.startsWith('npm '));
      expect(complaints).toEqual([expect.stringMatching(new RegExp(`port ${busy} \\(${what}\\) is already in use.*npm start -- ${flag} \\d+$`))]);
      expect(output).not.toMatch(/\[start\] starting|Live streaming platform|EPIPE|ingest ready/);
      expect(processesMentioning([dir])).toEqual([]);
    } finally {
      other.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the sidecar with a port another program holds', () => {
  it.each([
    { what: 'RTMP', args: (busy: number, free: number) => ['--rtmp-port', String(busy), '--api-port', String(free)], said: /cannot listen for RTMP.*EADDRINUSE/ },
    { what: 'operations API', args: (busy: number, free: number) => ['--rtmp-port', String(free), '--api-port', String(busy)], said: /cannot listen for the operations API.*EADDRINUSE/ },
  ])('never says "ready" when its $what port is taken', async ({ args, said }) => {
    const busy = await freePort();
    const other = await listenTcp(busy, '0.0.0.0');
    const dir = mkdtempSync(join(tmpdir(), 'e2e-newcomer-ingest-'));
    try {
      const result = spawnSync(
        process.execPath,
        [join(PROJECT_ROOT, 'ingest', 'main.ts'), '--open', '--storage', 'fs', '--storage-dir', join(dir, 'media'), '--streams-file', join(dir, 'streams.json'), '--state-dir', join(dir, 'state'), ...args(busy, await freePort())],
        { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 30_000, env: { ...process.env, LOG_FORMAT: 'json' } },
      );
      log.push('$ ingest with a busy port', result.stdout, result.stderr);
      expect(result.status).toBe(1);
      expect(result.stderr + result.stdout).toMatch(said);
      expect(result.stderr + result.stdout).not.toMatch(/ingest ready/);
    } finally {
      other.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('wrangler through npm on the machine\'s Node', () => {
  it.each([
    { command: ['run', 'wrangler', '--', 'deploy', '--dry-run'] },
    { command: ['run', 'deploy', '--', '--dry-run'] },
  ])('npm $command works', async ({ command }) => {
    const { code, output } = await finished(npm(command), 120_000);
    expect(output).not.toMatch(/requires at least Node/);
    expect(code).toBe(0);
    expect(output).toMatch(/R2 Bucket/);
  });

  it('npm run edge serves the edge, and a kill of npm stops wrangler and workerd', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'e2e-newcomer-edge-'));
    const run = npm(['run', 'edge', '--', '--port', String(port), '--ip', '127.0.0.1', '--persist-to', join(dir, 'r2')], { WRANGLER_SEND_METRICS: 'false' });
    try {
      await eventually('npm run edge to answer /time', 90_000, async () => ((await fetch(`http://127.0.0.1:${port}/time`).catch(() => undefined))?.ok ? true : undefined));
      process.kill(run.child.pid!, 'SIGTERM');
      await eventually('wrangler and workerd to stop', 20_000, async () => (processesMentioning([dir, `127.0.0.1:${port}`]).length === 0 ? true : undefined));
      expect(await portIsFree(port)).toBe(true);
    } finally {
      signalGroup(run.child, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('npm start, publish:test, the player page, and stopping, on a signed stream', () => {
  const ADMIN_TOKEN = 'newcomer-admin-token';
  const PLAYBACK_SECRET = 'newcomer-playback-secret';
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let ports: { edge: number; rtmp: number; api: number };
  let platform: Run;
  let publisher: Run | undefined;
  let key: string;
  let playbackId: string;
  const edge = (path: string) => `http://127.0.0.1:${ports.edge}${path}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-newcomer-'));
    ports = { edge: await freePort(), rtmp: await freePort(), api: await freePort() };
    env = { STREAMS_FILE: join(dir, 'streams.json'), STATE_DIR: join(dir, 'state'), EDGE_PERSIST_TO: join(dir, 'r2'), ADMIN_TOKEN, PLAYBACK_SECRET };
    const added = await finished(npm(['run', 'streams', '--', '--json', 'add', 'main', '--signed'], env), 30_000);
    ({ streamKey: key, playbackId } = JSON.parse(added.output.slice(added.output.indexOf('{'))) as { streamKey: string; playbackId: string });
    platform = npm(['start', '--', '--edge-port', String(ports.edge), '--rtmp-port', String(ports.rtmp), '--api-port', String(ports.api)], env);
    await eventually('npm start to print its banner', 120_000, async () => (platform.output().includes('Ctrl-C stops both') ? true : undefined));
  });

  afterAll(async () => {
    if (publisher) signalGroup(publisher.child, 'SIGKILL');
    if (platform) signalGroup(platform.child, 'SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    rmSync(dir, { recursive: true, force: true });
  });

  const publishTest = (streamKey: string, ...more: string[]) => npm(['run', 'publish:test', '--', '--url', `rtmp://localhost:${ports.rtmp}/live/${streamKey}`, '--size', '854x480', ...more], env);

  it('tells a publisher with a wrong key that the key was refused', async () => {
    const { code, output } = await finished(publishTest('sk_not-a-key', '--duration', '6'), 60_000);
    expect(code).not.toBe(0);
    expect(output).toContain('Server error: publish refused: unknown stream key');
    expect(output).toMatch(/the stream key was refused.*npm run streams -- list/);
    expect(output).not.toMatch(/Broken pipe|is the sidecar running/);
  });

  it('publishes with the right key, and tells a second publisher the stream is taken', async () => {
    publisher = publishTest(key);
    await eventually('the stream to be live', 60_000, async () => {
      const status = await fetch(edge(`/live/${playbackId}/status.json`)).catch(() => undefined);
      return status?.ok && ((await status.json()) as { state: string; renditions: unknown[] }).renditions.length > 0 ? true : undefined;
    });
    const second = await finished(publishTest(key, '--duration', '6'), 60_000);
    expect(second.code).not.toBe(0);
    expect(second.output).toMatch(/the sidecar refused the publish: stream "main" already has a publisher/);
  });

  it("reports the source's frame rate in the operations API", async () => {
    const fps = await eventually('a settled frame rate', 30_000, async () => {
      const response = await fetch(`http://127.0.0.1:${ports.api}/streams`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      const { streams } = (await response.json()) as { streams: { renditions: { kind: string }[]; input: { framesPerSecond: number } }[] };
      const stream = streams[0];
      return stream && stream.renditions.filter((rendition) => rendition.kind === 'video').length >= 2 && stream.input.framesPerSecond > 20 ? stream.input.framesPerSecond : undefined;
    });
    expect(fps).toBeLessThan(36);
  });

  it("shows the edge's reason on the player page without a token, and stops asking", async () => {
    const page = await openPlayerPage(edge(`/watch/${playbackId}`));
    try {
      const error = await eventually('the page to show why', 20_000, async () => ((await page.evaluate<boolean>('!document.getElementById("error").hidden')) ? page.text('#error') : undefined));
      expect(error).toMatch(/refused this stream \(401 Unauthorized\): this stream needs a playback token/);
      expect(await page.text('#status')).not.toMatch(/Network trouble|retrying/);
      const asked = page.playlistRequests.length;
      await new Promise((resolve) => setTimeout(resolve, 6000));
      expect(page.playlistRequests.length).toBe(asked);
      expect(page.pageErrors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('shows time watched, not the DASH playhead, with a token minted by the CLI', async () => {
    const minted = await finished(npm(['run', 'streams', '--', '--json', 'token', 'main', '--ttl', '600'], env), 30_000);
    const { token } = JSON.parse(minted.output.slice(minted.output.indexOf('{'))) as { token: string };
    const page = await openPlayerPage(edge(`/watch/${playbackId}?format=dash&token=${token}`));
    try {
      const watched = await eventually('the DASH page to play 3 s', 45_000, async () => {
        const match = /watched (\d+(?:\.\d+)?) s/.exec(await page.text('#status'));
        return match && Number(match[1]) >= 3 ? Number(match[1]) : undefined;
      });
      expect(watched).toBeLessThan(60);
    } finally {
      await page.close();
    }
  });

  it('stops publish:test on one Ctrl-C, cleanly', async () => {
    // A terminal's Ctrl-C: SIGINT to the whole foreground job (npm, its shell, node).
    signalGroup(publisher!.child, 'SIGINT');
    // npm itself dies of the SIGINT (no exit code): what counts is what the user reads.
    const { output } = await finished(publisher!, 20_000);
    publisher = undefined;
    // ffmpeg's last statistics line, with the output's size: it finished its file, not aborted.
    expect(output).toMatch(/Lsize=/);
    expect(output).not.toMatch(/Immediate exit|Error|error|exit code|is the sidecar running/);
    expect(processesMentioning([`rtmp://localhost:${ports.rtmp}`])).toEqual([]);
  });

  it('stops everything on a kill of npm start, freeing the ports', async () => {
    process.kill(platform.child.pid!, 'SIGTERM');
    // Its output closes once the last process holding it (start.ts, under npm's shell) is gone.
    await finished(platform, 30_000);
    await eventually('wrangler, workerd and the sidecar to be gone', 20_000, async () =>
      processesMentioning([dir, `127.0.0.1:${ports.edge}`]).length === 0 ? true : undefined,
    ).catch(() => expect(processesMentioning([dir, `127.0.0.1:${ports.edge}`])).toEqual([]));
    for (const port of Object.values(ports)) expect(await portIsFree(port)).toBe(true);
  });
});
