/**
 * `npm run bench`: our platform side by side with the blog's nginx-rtmp server, in one command.
 *
 * It starts both itself on 127.0.0.1 (our edge under wrangler dev and the ingest sidecar; nginx
 * with the RTMP module from a generated configuration), feeds both the same ffmpeg publisher,
 * and runs the selected stages: glass-to-glass latency in hls.js, segment availability delay,
 * ladder cost, capacity, the edge figures, memory. Medians over --runs, ratios ours/nginx from
 * the same runs, the goals printed next to the figures; results in bench-results/bench.json and
 * SVG charts beside it. Every stage is bounded in time; every process started is stopped at the
 * end, at a stage's time limit, and on Ctrl-C.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_LADDER_CONFIG } from '../ingest/transcode/ladder.ts';
import { FfmpegNotFoundError, locateFfmpeg } from '../ingest/transcode/ffmpeg-binary.ts';
import type { BenchContext, ServersUnderTest, Stoppable } from './bench/bench-context.ts';
import { runAvailabilityStage } from './bench/availability-stage.ts';
import { runRestreamStage } from './bench/restream-stage.ts';
import { runCapacityStage } from './bench/capacity-stage.ts';
import { runEdgeStage } from './bench/edge-stage.ts';
import { runLadderStage } from './bench/ladder-stage.ts';
import { LATENCY_MODES, playbackModes, runLatencyStage, type LatencyModeName } from './bench/latency-stage.ts';
import { runMemoryStage } from './bench/memory-stage.ts';
import { runSidecarCostStage } from './bench/sidecar-cost-stage.ts';
import { runThumbnailCostStage } from './bench/thumbnail-cost-stage.ts';
import { runMeasured } from './bench/measure.ts';
import { ensureNginxRtmp, startNginxPeer } from './bench/nginx-peer.ts';
import { startOurEdge, startOurSidecar } from './bench/our-platform.ts';
import { sourceFileArgs } from './bench/ladder-recipes.ts';
import { DEFAULT_KEYFRAME_SECONDS } from './bench/publishers.ts';
import { printSummary } from './bench/report.ts';
import { writeCharts } from './bench/charts.ts';
import { PROJECT_ROOT } from './lib/local-platform.ts';
import { freePort } from './lib/free-port.ts';
import { positiveInteger, positiveNumber } from './lib/cli-numbers.ts';

const STAGES = ['latency', 'availability', 'ladder', 'capacity', 'edge', 'memory', 'sidecar', 'thumbnails', 'restream'] as const;
type Stage = (typeof STAGES)[number];

function stageList(value: string): Stage[] {
  const names = value.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = names.filter((name) => !(STAGES as readonly string[]).includes(name));
  if (unknown.length > 0) throw new InvalidArgumentError(`unknown stage(s) ${unknown.join(', ')}; stages: ${STAGES.join(', ')}`);
  return names as Stage[];
}

function latencyModeList(value: string): LatencyModeName[] {
  const names = value.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = names.filter((name) => !Object.hasOwn(LATENCY_MODES, name));
  if (unknown.length > 0) throw new InvalidArgumentError(`unknown latency mode(s) ${unknown.join(', ')}; modes: ${Object.keys(LATENCY_MODES).join(', ')}`);
  return names.map((name) => LATENCY_MODES[name as keyof typeof LATENCY_MODES]);
}

function integerList(value: string): number[] {
  const numbers = value.split(',').map(Number);
  if (numbers.some((n) => !Number.isInteger(n) || n < 1)) throw new InvalidArgumentError('expected positive integers, comma-separated');
  return numbers;
}

const program = new Command('bench')
  .description("Our platform side by side with the blog's nginx-rtmp server: latency, availability, ladder cost, capacity, edge, memory.")
  .addOption(new Option('--only <stages>', `stages to run, comma-separated (${STAGES.join(', ')}; sidecar, thumbnails and restream only when named)`).default(STAGES.filter((stage) => stage !== 'sidecar' && stage !== 'thumbnails' && stage !== 'restream')).argParser(stageList))
  .addOption(new Option('--runs <n>', 'runs per measurement (medians are reported)').default(3).argParser(positiveInteger))
  .addOption(new Option('--seconds <n>', 'seconds measured per run').default(20).argParser(positiveInteger))
  .option('--long', 'memory drift over 10 minutes (default: 1 minute)', false)
  .addOption(new Option('--capacity-steps <list>', 'concurrent publishers to ramp through').default([1, 5, 10, 25, 50]).argParser(integerList))
  .addOption(new Option('--capacity-minutes <n>', 'time limit of the capacity ramp, per server').default(6).argParser(positiveInteger))
  .addOption(
    new Option('--capacity-edge <edge>', "our edge in the capacity stage: node (edge/node-server.ts, issue 21's figure), wrangler (wrangler dev), or both, one ramp each")
      .choices(['node', 'wrangler', 'both'])
      .default('both'),
  )
  .addOption(new Option('--sidecar-publishers <n>', 'passthrough streams of the sidecar stage (its cost per stream, no nginx)').default(10).argParser(positiveInteger))
  .option('--sidecar-cpu-prof <dir>', 'the sidecar stage runs its sidecars under node --cpu-prof, profiles in this folder')
  .addOption(new Option('--ladder-sources <heights>', 'source heights of the ladder stage').default([720, 1080]).argParser(integerList))
  .addOption(new Option('--stage-minutes <n>', 'time limit of every other stage').default(20).argParser(positiveInteger))
  .addOption(
    new Option('--latency-modes <modes>', `players of the latency stage, comma-separated (${Object.keys(LATENCY_MODES).join(', ')})`)
      .default(Object.values(LATENCY_MODES), 'all')
      .argParser(latencyModeList),
  )
  .addOption(
    new Option('--latency-edge <edge>', 'our edge in the latency stage: wrangler (wrangler dev, as npm start) or node (edge/node-server.ts, with a sidecar of its own, default ladder)')
      .choices(['wrangler', 'node'])
      .default('wrangler'),
  )
  .addOption(
    new Option('--latency-keyframes <seconds>', "the latency stage's publisher's keyframe interval (the goals are measured at the default)")
      .default(DEFAULT_KEYFRAME_SECONDS)
      .argParser(positiveNumber),
  )
  .option('--ll-url <template>', 'URL hls.js loads on our edge in low-latency mode ({origin}, {stream}); default: the standard playlist')
  .addOption(new Option('--out <dir>', 'where results and charts go').default(join(PROJECT_ROOT, 'bench-results')))
  .option('--merge', 'keep the other stages\' results of the existing bench.json (re-running some stages)', false)
  .option('--report', 'print the summary and redraw the charts of the existing bench.json; run nothing', false)
  .parse();

interface BenchOptions {
  only: Stage[];
  runs: number;
  seconds: number;
  long: boolean;
  capacitySteps: number[];
  capacityMinutes: number;
  capacityEdge: 'node' | 'wrangler' | 'both';
  latencyEdge: 'wrangler' | 'node';
  latencyKeyframes: number;
  ladderSources: number[];
  sidecarPublishers: number;
  sidecarCpuProf?: string;
  stageMinutes: number;
  llUrl?: string;
  latencyModes: LatencyModeName[];
  out: string;
  merge: boolean;
  report: boolean;
}
const options = program.opts<BenchOptions>();
const jsonFile = join(options.out, 'bench.json');
if (options.report) {
  const existing = JSON.parse(readFileSync(jsonFile, 'utf8')) as { results: Record<string, unknown>; settings?: Record<string, unknown> };
  printSummary(existing.results, existing.settings);
  for (const chart of writeCharts(existing.results, options.out)) console.log(`chart: ${chart}`);
  process.exit(0);
}
if (options.ladderSources.some((height) => ![720, 1080].includes(height))) program.error('error: --ladder-sources takes 720 and/or 1080');

let ffmpeg: string;
try {
  ffmpeg = locateFfmpeg();
  ensureNginxRtmp();
} catch (error) {
  if (error instanceof FfmpegNotFoundError) program.error(`error: ${error.message}`);
  program.error(`error: ${error instanceof Error ? error.message : String(error)}`);
}

const started = Date.now();
const status = (line: string) => console.log(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
const work = mkdtempSync(join(tmpdir(), 'bench-'));
const running = new Set<Stoppable>();
let interrupted: AbortController | undefined;
let shared: Promise<ServersUnderTest> | undefined;
const sources = new Map<number, Promise<string>>();

function removeWork(): void {
  try {
    rmSync(work, { recursive: true, force: true, maxRetries: 5 });
  } catch (error) {
    console.error(`[bench] could not remove ${work}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function stopEverything(): Promise<void> {
  // Last started first: the sidecar ends its streams through the edge, which must still be up.
  for (const resource of [...running].reverse()) {
    running.delete(resource);
    await resource.stop().catch(() => {});
  }
}

let stopping = false;
async function interrupt(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`\n[bench] ${signal}: stopping every process started…`);
  interrupted?.abort(new Error(signal));
  await stopEverything();
  removeWork();
  process.exit(130);
}
process.on('SIGINT', () => void interrupt('SIGINT'));
process.on('SIGTERM', () => void interrupt('SIGTERM'));

function startServers(): Promise<ServersUnderTest> {
  shared ??= (async () => {
    status('starting our edge (wrangler dev, local R2)…');
    const edge = await startOurEdge(join(work, 'edge'));
    running.add(edge.process);
    status('starting our ingest sidecar (default ladder)…');
    const sidecar = await startOurSidecar(edge, join(work, 'sidecar'));
    running.add(sidecar.process);
    status('starting nginx with the RTMP module (the blog\'s configuration)…');
    const nginx = await startNginxPeer({
      rtmpPort: await freePort(),
      httpPort: await freePort(),
      ffmpeg,
      fragmentSeconds: 2,
      playlistSeconds: 20,
      ladderSourceHeights: [720, 1080],
    });
    running.add(nginx);
    return { ours: { edge, sidecar }, nginx };
  })();
  return shared;
}

function sourceFile(height: number): Promise<string> {
  if (!sources.has(height)) {
    const file = join(work, `source-${height}p.flv`);
    status(`making a ${height}p30 H.264/AAC source (2 s keyframes)…`);
    sources.set(height, runMeasured(ffmpeg, sourceFileArgs(height, 20, file), join(work, 'ffmpeg.log')).then(() => file));
  }
  return sources.get(height)!;
}

function contextFor(signal: AbortSignal): BenchContext {
  return {
    ffmpeg,
    work,
    epochMs: started,
    runs: options.runs,
    seconds: options.seconds,
    long: options.long,
    signal,
    status,
    track: (resource) => (running.add(resource), resource),
    untrack: (resource) => void running.delete(resource),
    servers: startServers,
    sourceFile,
  };
}

/** Runs one stage under its time limit; a stage that fails or runs out of time is reported, the others go on. */
async function runStage<T>(name: Stage, minutes: number, body: (context: BenchContext) => Promise<T>): Promise<T | { error: string }> {
  // Interrupted (Ctrl-C): the next stages do not start while everything is being stopped.
  if (stopping) return new Promise<never>(() => {});
  const controller = new AbortController();
  interrupted = controller;
  const timer = setTimeout(() => controller.abort(new Error(`stage ${name} ran out of time (${minutes} min)`)), minutes * 60_000);
  status(`stage ${name}…`);
  try {
    return await body(contextFor(controller.signal));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    status(`stage ${name} failed: ${message}`);
    return { error: message };
  } finally {
    clearTimeout(timer);
  }
}

const modes = playbackModes(options.llUrl, options.latencyModes);
const results: Record<string, unknown> = {};
const selected = new Set(options.only);
try {
  if (selected.has('latency')) results.latency = await runStage('latency', options.stageMinutes, (context) => runLatencyStage(context, modes, { edge: options.latencyEdge, keyframeSeconds: options.latencyKeyframes }));
  if (selected.has('availability')) results.availability = await runStage('availability', options.stageMinutes, runAvailabilityStage);
  if (selected.has('ladder')) results.ladder = await runStage('ladder', options.stageMinutes, (context) => runLadderStage(context, options.ladderSources));
  if (selected.has('capacity')) {
    const edges = options.capacityEdge === 'both' ? (['node', 'wrangler'] as const) : ([options.capacityEdge] as const);
    // One ramp for nginx and one per edge of ours, each bounded by --capacity-minutes; a few minutes more to start and stop.
    results.capacity = await runStage('capacity', options.capacityMinutes * (1 + edges.length) + 3, (context) =>
      runCapacityStage(context, { steps: options.capacitySteps, minutesPerServer: options.capacityMinutes, edges: [...edges] }),
    );
  }
  if (selected.has('edge')) results.edge = await runStage('edge', options.stageMinutes, runEdgeStage);
  if (selected.has('sidecar')) {
    results.sidecar = await runStage('sidecar', options.stageMinutes, (context) => runSidecarCostStage(context, { publishers: options.sidecarPublishers, cpuProfileDir: options.sidecarCpuProf }));
  }
  if (selected.has('thumbnails')) results.thumbnails = await runStage('thumbnails', options.stageMinutes, runThumbnailCostStage);
  if (selected.has('restream')) results.restream = await runStage('restream', options.stageMinutes, runRestreamStage);
  if (selected.has('memory')) results.memory = await runStage('memory', options.long ? 16 : options.stageMinutes, runMemoryStage);
} finally {
  status('stopping every process started…');
  await stopEverything();
  removeWork();
}

interface BenchDocument {
  date: string;
  command: string;
  machine: { cpu?: string; cores: number; node: string; load: number[] };
  settings: Record<string, unknown>;
  results: Record<string, unknown>;
  /** When each stage's results were measured, and by which command (stages may come from --merge runs). */
  stages: Record<string, { date: string; command: string }>;
}
const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
const previous: BenchDocument | undefined = options.merge && existsSync(jsonFile) ? (JSON.parse(readFileSync(jsonFile, 'utf8')) as BenchDocument) : undefined;
const document: BenchDocument = {
  date: new Date(started).toISOString(),
  command,
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, load: loadavg() },
  settings: {
    runs: options.runs,
    secondsPerRun: options.seconds,
    long: options.long,
    stages: options.only,
    latencyModes: options.latencyModes,
    ...(selected.has('latency') ? { latencyEdge: options.latencyEdge, latencyKeyframeSeconds: options.latencyKeyframes } : {}),
    segmentSeconds: 2,
    ladder: DEFAULT_LADDER_CONFIG,
    ...(selected.has('capacity') ? { capacitySteps: options.capacitySteps, capacityMinutes: options.capacityMinutes, capacityEdge: options.capacityEdge } : {}),
  },
  results: { ...previous?.results, ...results },
  stages: { ...previous?.stages, ...Object.fromEntries(Object.keys(results).map((stage) => [stage, { date: new Date(started).toISOString(), command }])) },
};
mkdirSync(options.out, { recursive: true });
writeFileSync(jsonFile, JSON.stringify(document, null, 2) + '\n');
printSummary(document.results, document.settings);
for (const chart of writeCharts(document.results, options.out)) console.log(`chart: ${chart}`);
console.log(`results: ${jsonFile}`);
process.exit(0);
