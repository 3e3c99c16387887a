/**
 * `npm run bench:ladder`: what the ladder costs and what it looks like.
 *
 * For a 720p30 and a 1080p30 source (made here, 2 s keyframes, H.264/AAC as OBS sends), it runs
 * the sidecar's own ffmpeg command for the default ladder and, as the peer, five-rendition
 * re-encoding with libx264 veryfast (the blog's nginx-rtmp `exec ffmpeg` recipe: one scale and
 * one encode per rendition, audio encoded per rendition), both as fast as the machine goes.
 * It reports CPU seconds per second of media (median of --runs), the ratio ours/peer, and SSIM
 * of every rendition against the source. Then it measures the sidecar process itself carrying a
 * passthrough stream in real time (CPU % of one core, RSS).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { locateFfmpeg } from '../ingest/transcode/ffmpeg-binary.ts';
import type { Rendition } from '../ingest/transcode/ladder.ts';
import { fileCopyPublishArgs } from './lib/ffmpeg-args.ts';
import { PROJECT_ROOT } from './lib/local-platform.ts';
import { startPlatform } from './lib/platform.ts';
import { oursLadderArgs, peerLadderArgs, peerLadderHeights, planOurLadder, sourceFileArgs } from './bench/ladder-recipes.ts';
import { median, processCpuSeconds, processRssBytes, runMeasured } from './bench/measure.ts';
import { measureSsim } from './bench/quality.ts';
import { positiveInteger } from './lib/cli-numbers.ts';

const program = new Command('bench:ladder')
  .description('CPU and quality of the default ladder against five-rendition x264 veryfast re-encoding, and the sidecar\'s own cost per stream.')
  .addOption(new Option('--runs <n>', 'runs per measurement (the median is reported)').default(3).argParser(positiveInteger))
  .addOption(new Option('--seconds <n>', 'seconds of media per source').default(20).argParser(positiveInteger))
  .addOption(new Option('--sources <heights>', 'source heights, comma-separated').default('720,1080'))
  .addOption(new Option('--out <file>', 'JSON results').default(join(PROJECT_ROOT, 'bench-results', 'ladder.json')))
  .parse();
const options = program.opts<{ runs: number; seconds: number; sources: string; out: string }>();
const heights = options.sources.split(',').map(Number);
if (heights.some((height) => ![360, 480, 720, 1080].includes(height))) program.error('error: --sources takes heights among 360, 480, 720, 1080');

const ffmpeg = locateFfmpeg();
const work = mkdtempSync(join(tmpdir(), 'bench-ladder-'));
const log = join(work, 'ffmpeg.log');
const status = (line: string) => console.log(`[bench:ladder] ${line}`);
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

async function makeSource(height: number): Promise<string> {
  const file = join(work, `source-${height}.flv`);
  status(`making a ${height}p30 source of ${options.seconds} s`);
  await runMeasured(ffmpeg, sourceFileArgs(height, options.seconds, file), log);
  return file;
}

function oursArgs(source: string, sourceHeight: number, renditions: Rendition[], outDir: string): { args: string[]; outputs: Map<string, string> } {
  const outputs = new Map(renditions.map((rendition) => [rendition.name, join(outDir, `ours-${rendition.name}.mp4`)]));
  return { args: oursLadderArgs(source, sourceHeight, renditions, (name) => outputs.get(name)!), outputs };
}

function peerArgs(source: string, sourceHeight: number, outDir: string): { args: string[]; outputs: Map<string, string> } {
  const outputs = new Map(peerLadderHeights(sourceHeight).map((height) => [`${height}p`, join(outDir, `peer-${height}p.mp4`)]));
  const args = peerLadderArgs({ input: source, sourceHeight, output: (height) => ({ target: outputs.get(`${height}p`)!, format: 'mp4' }) });
  return { args, outputs };
}

const ssim = (rendition: string, source: string) => measureSsim(ffmpeg, rendition, source);

interface LadderResult {
  source: string;
  ours: { renditions: string[]; cpuPerMediaSecond: number; runs: number[]; ssim: Record<string, number> };
  peer: { renditions: string[]; cpuPerMediaSecond: number; runs: number[]; ssim: Record<string, number> };
  ratio: number;
}

async function benchLadder(height: number): Promise<LadderResult> {
  const source = await makeSource(height);
  const renditions = planOurLadder(readFileSync(source));
  const ours = oursArgs(source, height, renditions, work);
  const peer = peerArgs(source, height, work);
  const oursRuns: number[] = [];
  const peerRuns: number[] = [];
  for (let run = 1; run <= options.runs; run++) {
    status(`${height}p source, run ${run}/${options.runs}: ours (${renditions.map((r) => `${r.name}:${r.encoding}`).join(' ')})`);
    oursRuns.push((await runMeasured(ffmpeg, ours.args, log)).cpuSeconds / options.seconds);
    status(`${height}p source, run ${run}/${options.runs}: peer (${[...peer.outputs.keys()].join(' ')}, x264 veryfast each)`);
    peerRuns.push((await runMeasured(ffmpeg, peer.args, log)).cpuSeconds / options.seconds);
  }
  status(`${height}p source: SSIM of every rendition against the source`);
  const quality = async (outputs: Map<string, string>, skip: (name: string) => boolean) => {
    const result: Record<string, number> = {};
    for (const [name, file] of outputs) if (!skip(name)) result[name] = await ssim(file, source);
    return result;
  };
  const oursCpu = median(oursRuns);
  const peerCpu = median(peerRuns);
  return {
    source: `${height}p30`,
    ours: { renditions: renditions.map((r) => r.name), cpuPerMediaSecond: oursCpu, runs: oursRuns, ssim: await quality(ours.outputs, (name) => name === 'audio') },
    peer: { renditions: [...peer.outputs.keys()], cpuPerMediaSecond: peerCpu, runs: peerRuns, ssim: await quality(peer.outputs, () => false) },
    ratio: oursCpu / peerCpu,
  };
}

/** The sidecar process alone, carrying one passthrough stream (--ladder none) in real time. */
async function benchSidecar(): Promise<{ cpuPercentOfOneCore: number; rssMegabytes: number; seconds: number }> {
  const source = await makeSource(720);
  status(`sidecar: one 720p passthrough stream for ${options.seconds} s in real time`);
  const platform = await startPlatform({
    edge: 'none',
    dir: join(work, 'sidecar'),
    onLine: () => {},
    ingest: { reconnectWindow: 0, args: ['--storage', 'fs', '--storage-dir', join(work, 'media'), '--ladder', 'none'], env: { LOG_LEVEL: 'warn' } },
  });
  try {
    const pid = platform.ingest!.pid!;
    const publisher = spawn(ffmpeg, fileCopyPublishArgs(source, platform.publishUrl('bench')), { stdio: 'ignore' });
    // Past the start (probe, ffmpeg start-up), then a measured stretch of steady state.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const cpuBefore = processCpuSeconds(pid);
    const started = performance.now();
    await new Promise((resolve) => publisher.once('close', resolve));
    const seconds = (performance.now() - started) / 1000;
    const cpu = processCpuSeconds(pid) - cpuBefore;
    return { cpuPercentOfOneCore: (cpu / seconds) * 100, rssMegabytes: processRssBytes(pid) / 1024 / 1024, seconds };
  } finally {
    await platform.stop();
  }
}

const results: LadderResult[] = [];
for (const height of heights) results.push(await benchLadder(height));
const sidecar = await benchSidecar();

const fixed = (value: number, digits = 2) => value.toFixed(digits);
console.log('\nCPU seconds per second of media (median of %d runs; lower is better)', options.runs);
for (const result of results) {
  console.log(`  ${result.source}: ours ${fixed(result.ours.cpuPerMediaSecond)} [${result.ours.renditions.join(', ')}]  peer ${fixed(result.peer.cpuPerMediaSecond)} [${result.peer.renditions.join(', ')}]  ours/peer ${fixed(result.ratio)}`);
}
console.log('\nSSIM against the source (1 = identical)');
for (const result of results) {
  console.log(`  ${result.source}: ours ${Object.entries(result.ours.ssim).map(([name, value]) => `${name} ${fixed(value, 4)}`).join(', ')}`);
  console.log(`  ${' '.repeat(result.source.length)}  peer ${Object.entries(result.peer.ssim).map(([name, value]) => `${name} ${fixed(value, 4)}`).join(', ')}`);
}
console.log(`\nSidecar process, one passthrough stream: ${fixed(sidecar.cpuPercentOfOneCore, 1)} % of one core, RSS ${fixed(sidecar.rssMegabytes, 0)} MB (over ${fixed(sidecar.seconds, 0)} s)`);

mkdirSync(join(options.out, '..'), { recursive: true });
writeFileSync(
  options.out,
  JSON.stringify({ date: new Date().toISOString(), machine: machineFacts(), runs: options.runs, mediaSeconds: options.seconds, ladders: results, sidecar }, null, 2) + '\n',
);
console.log(`\nresults: ${options.out}`);

function machineFacts() {
  const cpuModel = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1];
  return { cpu: cpuModel, cores: (readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm) ?? []).length, node: process.version };
}
