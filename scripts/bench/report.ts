/** The benchmark's summary on the terminal: every figure with its goal next to it (pure text building, one print). */
import type { AvailabilityFigures, AvailabilityResult } from './availability-stage.ts';
import { capacityOfAnyVersion, type CapacityResult, type CapacityStep } from './capacity-stage.ts';
import type { LadderSourceResult } from './ladder-stage.ts';
import type { LatencyResult } from './latency-stage.ts';
import { DEFAULT_KEYFRAME_SECONDS } from './publishers.ts';
import type { MemoryResult } from './memory-stage.ts';
import type { SidecarCostResult } from './sidecar-cost-stage.ts';
import { thumbnailCostLines, type ThumbnailCostResult } from './thumbnail-cost-stage.ts';
import { restreamLines, type RestreamResult } from './restream-stage.ts';

/** The goals of issues #10 and #21, as printed next to the figures. */
export const GOALS = {
  nginxLatency: "nginx 7.1-8.4 s with 2 s fragments in hls.js defaults (the blog's figure)",
  oursStandard: 'ours (standard HLS) no later than nginx',
  oursHlsJsDefaults: 'ours in hls.js at its defaults (LL-HLS, no catch-up) <= 1.5 s',
  oursLowLatency: 'ours in the player page\'s LL-HLS setting (1.5x catch-up) <= 1.2 s',
  oursLowLatencyEncoded: 'ours with LL-HLS <= 2 s (encoded rung)',
  availability: 'ours within nginx + 50 ms',
  ladder: 'default ladder <= 0.40 CPU-s per media-s',
  capacity: "ours >= nginx's",
  capacityCpu: 'sidecar CPU per passthrough stream <= 1 % of a core',
  capacityRss: 'sidecar RSS <= 3 MB per added stream',
  memory: 'sidecar <= 30 MB RSS per stream (without ffmpeg), drift < 5 % over 10 min',
} as const;

const s = (value: number | null | undefined, digits = 2) => (value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits));
const mark = (ok: boolean) => (ok ? 'met' : 'NOT met');

function isResult<T>(value: unknown): value is T {
  return typeof value === 'object' && value !== null && !('error' in value);
}

function failed(name: string, value: unknown): string[] {
  return value && typeof value === 'object' && 'error' in value ? [`${name}: failed (${String((value as { error: unknown }).error)})`, ''] : [];
}

export function latencyLines(latency: LatencyResult, keyframeSeconds = DEFAULT_KEYFRAME_SECONDS): string[] {
  const goalSource = keyframeSeconds === DEFAULT_KEYFRAME_SECONDS;
  const lines = [
    `Glass-to-glass latency, hls.js in Chromium, seconds (p50 / p95 of every frame read; median of the runs' medians; source keyframes every ${keyframeSeconds} s)`,
  ];
  for (const [mode, { ours, nginx }] of Object.entries(latency)) {
    lines.push(
      `  ${mode.padEnd(26)} ours ${s(ours.p50)} / ${s(ours.p95)} (runs ${s(median(ours.runMedians))})   nginx ${s(nginx.p50)} / ${s(nginx.p95)} (runs ${s(median(nginx.runMedians))})   ours/nginx ${s(ours.p50 / nginx.p50)}` +
        `   [ours renditions ${ours.heights.join('/')}p; frames unreadable: ours ${ours.unreadable}, nginx ${nginx.unreadable}` +
        `${ours.playingDateMedian === null ? '' : `; hls.js playingDate says ${s(ours.playingDateMedian)}`}` +
        `${ours.behindEdgeMedian == null ? '' : `; hls.latency says ours ${s(ours.behindEdgeMedian)}, nginx ${s(nginx.behindEdgeMedian)}`}` +
        `${ours.stalls ? `; stalls per run ours ${ours.stalls.join(', ')}, nginx ${nginx.stalls.join(', ')}` : ''}` +
        `${ours.stallsWhileSettling ? ` (while settling: ours ${ours.stallsWhileSettling.join(', ')}, nginx ${nginx.stallsWhileSettling.join(', ')})` : ''}]`,
    );
  }
  const standard = latency.standard;
  if (standard) {
    lines.push(`  goal: ${GOALS.nginxLatency}: nginx p50 ${s(standard.nginx.p50)} s`);
    lines.push(`  goal: ${GOALS.oursStandard}: ${mark(standard.ours.p50 <= standard.nginx.p50)}`);
  }
  // The goals hold for the default source: a figure from another keyframe interval is shown, not judged.
  if (!goalSource) return [...lines, `  goals: not judged (measured with keyframes every ${DEFAULT_KEYFRAME_SECONDS} s; this run's source had them every ${keyframeSeconds} s)`, ''];
  const defaults = latency['hls.js defaults'];
  if (defaults) lines.push(`  goal: ${GOALS.oursHlsJsDefaults}: ${mark(defaults.ours.p50 <= 1.5)} (p50 ${s(defaults.ours.p50)} s)`);
  const low = latency['low-latency'];
  if (low) lines.push(`  goal: ${GOALS.oursLowLatency}: ${mark(low.ours.p50 <= 1.2)} (p50 ${s(low.ours.p50)} s)`);
  const encoded = latency['low-latency, encoded 360p'];
  if (encoded) lines.push(`  goal: ${GOALS.oursLowLatencyEncoded}: ${mark(encoded.ours.p50 <= 2)} (p50 ${s(encoded.ours.p50)} s)`);
  return [...lines, ''];
}

export function availabilityLines(availability: AvailabilityResult): string[] {
  const { ours, oursPassthroughNode: passthrough, nginx } = availability;
  const row = (name: string, figures: AvailabilityFigures) =>
    `  ${name.padEnd(36)} ${s(figures.p50, 3)} / ${s(figures.p95, 3)}   first segment ${figures.firstSegment.map((v) => s(v)).join(', ')}` +
    `${figures.programDateTimeOffset === undefined ? '' : `   [its EXT-X-PROGRAM-DATE-TIME runs ${s(figures.programDateTimeOffset)} s behind the publisher's clock]`}`;
  return [
    'Segment availability delay, seconds from media end (publisher clock) to first listing (p50 / p95; first segment apart)',
    row('ours (wrangler dev, default ladder)', ours),
    ...(passthrough ? [row('ours (Node edge, --ladder none)', passthrough)] : []),
    row('nginx', nginx),
    // Issue 21's goal is for the passthrough rendition: the Node edge with --ladder none when measured.
    ...(passthrough ? [`  ours (Node edge, --ladder none) - nginx (p50): ${s(passthrough.p50 - nginx.p50, 3)} s; goal: ${GOALS.availability}: ${mark(passthrough.p50 - nginx.p50 <= 0.05)}`] : []),
    `  ours (wrangler dev, default ladder) - nginx (p50): ${s(ours.p50 - nginx.p50, 3)} s${passthrough ? '' : `; goal: ${GOALS.availability}: ${mark(ours.p50 - nginx.p50 <= 0.05)}`}`,
    '',
  ];
}

export function ladderLines(ladder: LadderSourceResult[]): string[] {
  const lines = ['Ladder cost live, CPU seconds per media second (process tree; median of runs), and SSIM against the source'];
  for (const result of ladder) {
    lines.push(
      `  ${result.source}: ours ${s(result.ours.cpuPerMediaSecond)} [${result.ours.renditions.join(', ')}]   nginx exec ffmpeg ${s(result.nginx.cpuPerMediaSecond)} [${result.nginx.renditions.join(', ')}]   ours/nginx ${s(result.ratio)}` +
        `   [output pace x real time: ours ${(result.ours.realTimeRatio ?? []).map((v) => s(v)).join('/')}, nginx ${(result.nginx.realTimeRatio ?? []).map((v) => s(v)).join('/')}]`,
    );
    lines.push(`    SSIM ours ${Object.entries(result.ours.ssim).map(([name, value]) => `${name} ${s(value, 4)}`).join(', ')}`);
    lines.push(`    SSIM nginx ${Object.entries(result.nginx.ssim).map(([name, value]) => `${name} ${s(value, 4)}`).join(', ')}`);
  }
  lines.push(`  goal: ${GOALS.ladder}: ${ladder.map((result) => `${result.source} ${mark(result.ours.cpuPerMediaSecond <= 0.4)}`).join(', ')}`);
  return [...lines, ''];
}

export function capacityLines(stored: CapacityResult): string[] {
  const capacity = capacityOfAnyVersion(stored);
  const lines = ['Capacity: concurrent 720p30 passthrough publishers while p95 availability delay <= 2 s and no errors (CPU: % of one core)'];
  const stepLine = (step: CapacityStep) =>
    `    ${String(step.publishers).padStart(3)}: p50 ${s(step.p50)} s, p95 ${s(step.p95)} s, CPU ${s(step.cpuPercent, 0)} %, RSS ${s(step.rssMegabytes, 0)} MB` +
    `${step.edgeCpuPercent === undefined ? '' : `; edge CPU ${s(step.edgeCpuPercent, 0)} %, RSS ${s(step.edgeRssMegabytes, 0)} MB`}` +
    `${step.sidecarChildren === undefined ? '' : `; sidecar children ${step.sidecarChildren}`}${step.load1 === undefined ? '' : `; load ${s(step.load1, 1)}`}` +
    `${step.errors.length ? `, errors: ${step.errors.join('; ')}` : ''}`;
  lines.push(`  nginx last good ${capacity.nginx.lastGood} (stopped: ${capacity.nginx.stoppedBecause}); CPU and RSS: master + worker`);
  lines.push(...capacity.nginx.steps.map(stepLine));
  for (const ours of Object.values(capacity.ours)) {
    lines.push(`  ours, ${ours.edge === 'node' ? 'Node edge' : 'wrangler dev'}: last good ${ours.lastGood} (stopped: ${ours.stoppedBecause}); sidecar ${ours.sidecarArgs.join(' ')}; CPU and RSS: the sidecar, the edge apart`);
    lines.push(...ours.steps.map(stepLine));
    const { perStream } = ours;
    lines.push(
      `    per stream (sidecar): CPU ${s(perStream.cpuPercentPerStream)} % at ${perStream.atPublishers} (${s(perStream.cpuPercentPerAddedStream)} % per added), RSS ${s(perStream.rssMegabytesPerAddedStream)} MB per added stream (idle ${s(ours.idleRssMegabytes, 0)} MB)`,
    );
    lines.push(`    goal: ${GOALS.capacity}: ${mark(ours.lastGood >= capacity.nginx.lastGood)} (ours/nginx ${s(ours.ratio)})`);
    lines.push(`    goal: ${GOALS.capacityCpu}: ${mark(perStream.cpuPercentPerStream <= 1)}; ${GOALS.capacityRss}: ${mark(perStream.rssMegabytesPerAddedStream <= 3)}`);
  }
  return [...lines, ''];
}

interface EdgeFigures {
  rewrites: { segments: number; microseconds: { thread: number; process: number } }[];
  requestsPerSecond: { clients: number; median: number };
  readsUnder500Viewers: { segment: number; playlist: number };
}

export function edgeLines(edge: EdgeFigures): string[] {
  return [
    'Edge (npm run bench:edge)',
    ...edge.rewrites.map((rewrite) => `  rewrite of a ${rewrite.segments}-segment live playlist: ${s(rewrite.microseconds.thread / 1000, 3)} ms`),
    `  cached live playlist through wrangler dev, ${edge.requestsPerSecond.clients} clients: ${s(edge.requestsPerSecond.median, 0)} requests/s`,
    `  storage reads with 500 concurrent viewers: segment ${edge.readsUnder500Viewers.segment}, playlist ${edge.readsUnder500Viewers.playlist} (goal 1)`,
    '',
  ];
}

export function memoryLines(memory: MemoryResult): string[] {
  const { ours, nginx } = memory;
  return [
    `Memory (RSS, MB): idle / 1 stream / 5 streams, per stream; drift over ${memory.driftSeconds} s with one stream`,
    `  ours (sidecar process)  ${s(ours.idleMegabytes, 0)} / ${s(ours.oneStreamMegabytes, 0)} / ${s(ours.fiveStreamsMegabytes, 0)}, per stream ${s(ours.perStreamMegabytes, 1)}; drift ${s(ours.drift.percent, 1)} %`,
    `  nginx (master + worker) ${s(nginx.idleMegabytes, 0)} / ${s(nginx.oneStreamMegabytes, 0)} / ${s(nginx.fiveStreamsMegabytes, 0)}, per stream ${s(nginx.perStreamMegabytes, 1)}; drift ${s(nginx.drift.percent, 1)} %`,
    `  goal: ${GOALS.memory}: per stream ${mark(ours.perStreamMegabytes <= 30)}, drift ${mark(ours.drift.percent < 5)}${memory.driftSeconds < 600 ? ' (short run; --long for 10 min)' : ''}`,
    '',
  ];
}

export function sidecarCostLines(cost: SidecarCostResult): string[] {
  const { median: m } = cost;
  return [
    `Sidecar cost (no nginx; Node edge not counted): ${cost.publishers} passthrough 720p30 streams, ${cost.secondsMeasured} s measured, median of ${cost.runs.length} run(s), load ${s(m.load1, 1)}`,
    `  CPU ${s(m.cpuPercent, 1)} % of a core, ${s(m.cpuPercentPerStream)} % per stream (idle ${s(m.idleCpuPercent)} %, ${s(m.cpuPercentPerAddedStream)} % per added stream): ${GOALS.capacityCpu} ${mark(m.cpuPercentPerStream <= cost.goals.cpuPercentPerStream)}`,
    `  RSS ${s(m.rssMegabytesPerStream)} MB per stream: ${GOALS.capacityRss} ${mark(m.rssMegabytesPerStream <= cost.goals.rssMegabytesPerStream)}`,
    '',
  ];
}

function median(values: readonly number[]): number {
  const sorted = [...values].filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** `settings` as bench.json records them: the latency stage's source keyframe interval, when not the default. */
export function summaryLines(results: Record<string, unknown>, settings: Record<string, unknown> = {}): string[] {
  const keyframeSeconds = typeof settings.latencyKeyframeSeconds === 'number' ? settings.latencyKeyframeSeconds : DEFAULT_KEYFRAME_SECONDS;
  return [
    '',
    ...(isResult<LatencyResult>(results.latency) ? latencyLines(results.latency, keyframeSeconds) : failed('latency', results.latency)),
    ...(isResult<AvailabilityResult>(results.availability) ? availabilityLines(results.availability) : failed('availability', results.availability)),
    ...(isResult<LadderSourceResult[]>(results.ladder) ? ladderLines(results.ladder) : failed('ladder', results.ladder)),
    ...(isResult<CapacityResult>(results.capacity) ? capacityLines(results.capacity) : failed('capacity', results.capacity)),
    ...(isResult<EdgeFigures>(results.edge) ? edgeLines(results.edge) : failed('edge', results.edge)),
    ...(isResult<MemoryResult>(results.memory) ? memoryLines(results.memory) : failed('memory', results.memory)),
    // Only when the stage ran (it runs when named).
    ...(results.sidecar === undefined ? [] : isResult<SidecarCostResult>(results.sidecar) ? sidecarCostLines(results.sidecar) : failed('sidecar', results.sidecar)),
    ...(results.thumbnails === undefined ? [] : isResult<ThumbnailCostResult>(results.thumbnails) ? thumbnailCostLines(results.thumbnails) : failed('thumbnails', results.thumbnails)),
    ...(results.restream === undefined ? [] : isResult<RestreamResult>(results.restream) ? restreamLines(results.restream) : failed('restream', results.restream)),
  ];
}

export function printSummary(results: Record<string, unknown>, settings: Record<string, unknown> = {}): void {
  console.log(summaryLines(results, settings).join('\n'));
}
