/**
 * Why Chromium's requests to the edge wait for their first byte during hls.js's start-up (issue
 * 22 item 4): a probe, not a figure. One live stream (the 720p clock publisher, the sidecar's
 * ladder unless `--ladder` says otherwise), one browser, and:
 *
 * 1. steady requests (nothing playing): the multivariant playlist, the source media playlist, a
 *    listed part and a bare node:http server's file, one after another, from Node (`fetch`, as
 *    curl) and from pages with `fetch()` and XMLHttpRequest: a page opened as the latency bench
 *    opens it (its document and hls.js served through Playwright's `page.route`) and a plain page
 *    on the edge's origin (nothing intercepted). Each browser request's Resource Timing;
 * 2. hls.js at its defaults starting in the bench's page (or `--startup plain`: a page open for
 *    10 s before hls.js starts in it), while Node asks every 50 ms for an old listed part (the live
 *    state), the init segment (storage), the bare server's file and, under `wrangler dev`, the part
 *    from the worker's own workerd port behind wrangler's proxy. For 3 s before the page and the
 *    6 s after: those answers' times, the machine's idle CPU and who had it (latency-cpu.ts); then
 *    the page's first 40 requests as Resource Timing saw them and its start-up line.
 *
 * If the server's answers to Node slow down with the browser's, and the bare server's do not,
 * the wait is the server's; if the machine has no idle CPU then, it is waiting for a core.
 *
 * Usage: node scripts/node24.mjs scripts/bench/latency-ttfb.ts [--edge wrangler|node] [--ladder LADDER] [--rounds N] [--startup bench|plain] [--no-steady]
 */
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import { locateFfmpeg } from '../../ingest/transcode/ffmpeg-binary.ts';
import { startPlatform } from '../lib/platform.ts';
import { CLOCK_LAYOUT } from './clock-pattern.ts';
import { platformCpuSources, sampleCpu } from './latency-cpu.ts';
import { renderLatencyPage, type PageReport } from './latency-page.ts';
import { HLS_JS_DEFAULTS_CONFIG, hlsJsSource } from './latency-stage.ts';
import { startupBreakdown, startupText } from './latency-startup.ts';
import { median, processTree, treeCpuSeconds } from './measure.ts';
import { clockPublisherArgs, startPublisher } from './publishers.ts';

const { values } = parseArgs({
  options: {
    edge: { type: 'string', default: 'wrangler' },
    ladder: { type: 'string' },
    rounds: { type: 'string', default: '8' },
    startup: { type: 'string', default: 'bench' },
    'no-steady': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(`Usage: node scripts/node24.mjs scripts/bench/latency-ttfb.ts [options]

Where Chromium's requests to the edge wait for their first byte: steady requests from Node and
from pages, then hls.js's start-up with the server's answer times to Node and the machine's CPU
before and during it (a diagnosis, not a figure).

Options:
  --edge EDGE       wrangler (wrangler dev) or node (npm run edge:node) (default: wrangler)
  --ladder LADDER   the sidecar's --ladder, e.g. none (default: the sidecar's)
  --rounds N        steady requests per URL and client (default: 8)
  --startup KIND    bench (the latency bench's page, hls.js at once) or plain (a page open 10 s first) (default: bench)
  --no-steady       skip the steady requests
  -h, --help        this text`);
  process.exit(0);
}
if (values.edge !== 'wrangler' && values.edge !== 'node') throw new Error('--edge: wrangler or node');
const rounds = Number(values.rounds);

/** One request's timing, ms from its start: sent on the connection, first byte, done. */
interface Timing {
  what: string;
  sent: number;
  firstByte: number;
  done: number;
}

/**
 * Runs in the page (JavaScript source: this project's scripts have no DOM types): each URL fetched
 * (fetch() or XHR) one after another, `rounds` times, with its Resource Timing entry (Timing[]).
 */
const IN_PAGE = `async ({ urls, rounds, useXhr }) => {
  const out = [];
  const get = (url) =>
    useXhr
      ? new Promise((resolve) => {
          const xhr = new XMLHttpRequest();
          xhr.open('GET', url);
          xhr.responseType = 'arraybuffer';
          xhr.onloadend = () => resolve();
          xhr.send();
        })
      : fetch(url).then((response) => response.arrayBuffer()).then(() => undefined, () => undefined);
  for (let round = 0; round < rounds; round++) {
    for (const [what, base] of Object.entries(urls)) {
      // A new URL each time: each request its own entry, nothing from the browser's cache.
      const url = base + (base.includes('?') ? '&' : '?') + 'probe=' + round + (useXhr ? 'x' : 'f') + Math.random().toString(36).slice(2, 6);
      await get(url);
      const entry = performance.getEntriesByName(url).at(-1);
      if (entry && entry.responseStart > 0) out.push({ what, sent: entry.requestStart - entry.startTime, firstByte: entry.responseStart - entry.startTime, done: entry.responseEnd - entry.startTime });
      else out.push({ what: what + ' (failed or no timing)', sent: 0, firstByte: 0, done: 0 });
    }
  }
  return out;
}`;

/** The page's requests to the edge as Resource Timing saw them (from the start of the page). */
const PAGE_ENTRIES = `performance.getEntriesByType('resource').map((timing) => ({ name: timing.name, at: performance.timeOrigin + timing.startTime,
  queued: timing.requestStart - timing.startTime, firstByte: timing.responseStart - timing.requestStart, body: timing.responseEnd - timing.responseStart }))`;

async function nodeTimings(urls: Record<string, string>): Promise<Timing[]> {
  const out: Timing[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const [what, url] of Object.entries(urls)) {
      const start = performance.now();
      const response = await fetch(url);
      const firstByte = performance.now() - start;
      await response.arrayBuffer();
      out.push({ what, sent: 0, firstByte, done: performance.now() - start });
    }
  }
  return out;
}

function summary(label: string, timings: Timing[]): string {
  const names = [...new Set(timings.map((timing) => timing.what))];
  const lines = names.map((name) => {
    const mine = timings.filter((timing) => timing.what === name);
    const stat = (pick: (timing: Timing) => number) => `${median(mine.map(pick)).toFixed(1)} (max ${Math.max(...mine.map(pick)).toFixed(1)})`;
    return `  ${name.padEnd(12)} sent ${stat((t) => t.sent)}  first byte ${stat((t) => t.firstByte)}  done ${stat((t) => t.done)} ms`;
  });
  return `${label}:\n${lines.join('\n')}`;
}

/** Under wrangler dev: the part from each other port of the edge's processes that answers it (the worker's own workerd, behind wrangler's proxy). */
async function directPorts(edgePid: number, part: string): Promise<Record<string, string>> {
  const tree = new Set(processTree(edgePid));
  const edgePort = new URL(part).port;
  const found: Record<string, string> = {};
  for (const line of execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' }).split('\n')) {
    const pid = Number(/pid=(\d+)/.exec(line)?.[1]);
    const port = /127\.0\.0\.1:(\d+)/.exec(line)?.[1];
    if (!tree.has(pid) || !port || port === edgePort) continue;
    const url = part.replace(`:${edgePort}/`, `:${port}/`);
    if (await fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false)) found[`part via :${port}`] = url;
  }
  return found;
}

const staticServer = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'video/mp4', 'access-control-allow-origin': '*', 'timing-allow-origin': '*', 'cache-control': 'no-store' });
  response.end(Buffer.alloc(20_000));
});
await new Promise<void>((resolve) => staticServer.listen(0, '127.0.0.1', resolve));
const staticUrl = `http://127.0.0.1:${(staticServer.address() as AddressInfo).port}/file.m4s`;

const platform = await startPlatform({ edge: values.edge, ingest: { reconnectWindow: 0, args: values.ladder ? ['--ladder', values.ladder] : [], env: { LOG_LEVEL: 'warn' } }, dirPrefix: 'latency-ttfb-' });
const stream = `ttfb${Date.now().toString(36)}`;
const publisher = startPublisher(locateFfmpeg(), clockPublisherArgs({ epochMs: Date.now(), size: '1280x720', seconds: 150, targets: [platform.publishUrl(stream)] }));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
});
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
try {
  const origin = platform.edgeUrl;
  const media = `${origin}/live/${stream}/source/index.m3u8`;
  let text = '';
  for (let tries = 0; (text.match(/#EXTINF/g) ?? []).length < 5; tries++) {
    if (tries > 120) throw new Error('no 5 segments in 60 s');
    await pause(500);
    text = await fetch(media).then((r) => (r.ok ? r.text() : ''));
  }
  const part = new URL([...text.matchAll(/#EXT-X-PART:.*URI="([^"]+)"/g)].at(-1)![1]!, media).href;
  const init = new URL(/#EXT-X-MAP:URI="([^"]+)"/.exec(text)![1]!, media).href;
  const edgeUrls = { multivariant: `${origin}/live/${stream}.m3u8`, media, part };
  console.log(`${new Date().toISOString()} edge ${values.edge}, ladder ${values.ladder ?? "the sidecar's"}, stream ${stream}`);

  const hlsJs = hlsJsSource();
  const html = renderLatencyPage({ playlistUrl: edgeUrls.multivariant, hlsConfig: HLS_JS_DEFAULTS_CONFIG, hlsScriptUrl: '/__bench__/hls.min.js', layout: CLOCK_LAYOUT, sampleEveryMs: 200 });
  // As the latency bench opens its page: document and hls.js fulfilled by Playwright, on the edge's origin.
  const benchPage = async (body: string) => {
    const page = await browser.newPage();
    await page.route(`${origin}/__bench__/**`, (route) => (route.request().url().endsWith('.js') ? route.fulfill({ contentType: 'text/javascript', body: hlsJs }) : route.fulfill({ contentType: 'text/html', body })));
    await page.goto(`${origin}/__bench__/latency.html`);
    return page;
  };
  // A page of the edge's own (its 404), nothing intercepted.
  const plainPage = async () => {
    const page = await browser.newPage();
    await page.goto(`${origin}/__latency_ttfb__`);
    return page;
  };

  if (!values['no-steady']) {
    const routed = await benchPage('<!doctype html><title>probe</title>');
    const plain = await plainPage();
    const run = async (label: string, page: Page, urls: Record<string, string>, useXhr: boolean) =>
      console.log(summary(`${label}, ${new Date().toISOString().slice(11, 19)}`, (await page.evaluate(`(${IN_PAGE})(${JSON.stringify({ urls, rounds, useXhr })})`)) as Timing[]));
    console.log(summary('steady, Node fetch', await nodeTimings({ ...edgeUrls, static: staticUrl })));
    // The routed page's own document came from Playwright, and Chromium refuses it the bare server (another origin on loopback): edge URLs only.
    await run('steady, bench page, fetch()', routed, edgeUrls, false);
    await run('steady, plain page, fetch()', plain, { ...edgeUrls, static: staticUrl }, false);
    await run('steady, bench page, XHR', routed, edgeUrls, true);
    await run('steady, plain page, XHR', plain, { ...edgeUrls, static: staticUrl }, true);
    await Promise.all([routed.close(), plain.close()]);
  }

  // Node's requests beside the start-up: the server's answer times, before and during it.
  const targets: Record<string, string> = { part, init, static: staticUrl, ...(values.edge === 'wrangler' ? await directPorts(platform.edge!.pid!, part) : {}) };
  const pings: { at: number; ms: number; what: string }[] = [];
  const cpu = sampleCpu({ ...platformCpuSources(platform.edge!.pid!, platform.ingest!.pid!), publisher: () => treeCpuSeconds(publisher.process.pid!) });
  let pinging = true;
  const pinger = (async () => {
    while (pinging) {
      for (const [what, url] of Object.entries(targets)) {
        const start = performance.now();
        const at = Date.now();
        await fetch(url).then((r) => r.arrayBuffer());
        pings.push({ at, ms: performance.now() - start, what });
        await pause(50);
      }
    }
  })();
  // The plain page is opened and given hls.js 7 s before it starts; the bench's page starts hls.js as it loads.
  const plain = values.startup === 'plain' ? await plainPage() : undefined;
  if (plain) await plain.addScriptTag({ content: hlsJs });
  await pause(plain ? 7_000 : 3_000);
  const startedAt = Date.now();
  if (plain) {
    await plain.evaluate(`document.body.innerHTML = '<video id="video" muted autoplay playsinline style="width:640px;height:360px"></video>'`);
    await plain.addScriptTag({ content: /<script>([\s\S]*)<\/script>/.exec(html)![1]! });
  }
  const page = plain ?? (await benchPage(html));
  await pause(6_000);
  pinging = false;
  await pinger;
  cpu.stop();

  const pingWindow = (from: number, to: number) =>
    Object.keys(targets).map((what) => {
      const ms = pings.filter((ping) => ping.what === what && ping.at >= from && ping.at < to).map((ping) => ping.ms);
      return ms.length === 0 ? `${what} -` : `${what} ${median(ms).toFixed(0)} ms (max ${Math.max(...ms).toFixed(0)}, ${ms.length})`;
    }).join(', ');
  for (const [label, from, to] of [['3 s before hls.js', startedAt - 3_000, startedAt], ['its first 3 s', startedAt, startedAt + 3_000], ['the next 3 s', startedAt + 3_000, startedAt + 6_000]] as const) {
    console.log(`${label}: Node's answers (p50) ${pingWindow(from, to)}; ${cpu.window(from, to)}`);
  }
  const report = (await page.evaluate('window.bench')) as PageReport;
  console.log(`hls.js (${values.startup} page): first frame ${JSON.stringify(report.startup)}`);
  console.log(`start-up: ${startupText(startupBreakdown(report))}`);
  const entries = (await page.evaluate(PAGE_ENTRIES)) as { name: string; at: number; queued: number; firstByte: number; body: number }[];
  const live = entries.filter((entry) => entry.name.includes('/live/'));
  console.log('its first 40 requests (Resource Timing, ms; a request aborted or still open has no first byte):');
  for (const entry of live.slice(0, 40)) {
    const fields = entry.firstByte >= 0 ? `queued ${entry.queued.toFixed(0).padStart(4)}  first byte ${entry.firstByte.toFixed(0).padStart(4)}  body ${entry.body.toFixed(0).padStart(4)}` : 'no first byte'.padEnd(41);
    console.log(`  +${(entry.at - live[0]!.at).toFixed(0).padStart(5)}  ${fields}  ${entry.name.replace(origin, '')}`);
  }
} finally {
  await browser.close();
  await publisher.stop();
  await platform.stop();
  staticServer.close();
}
