/**
 * Stage "memory": the sidecar's resident memory per stream (the Node process alone, without its
 * ffmpeg), next to nginx's (master + worker), and its drift while carrying one stream for a
 * minute (10 minutes with --long). A sidecar of its own (`--ladder none`), fresh, so its idle
 * baseline is known; every publisher feeds both servers.
 */
import { join } from 'node:path';
import { pause, type BenchContext } from './bench-context.ts';
import { processRssBytes, treeRssBytes } from './measure.ts';
import { startOurSidecar } from './our-platform.ts';
import { filePublisherArgs, startPublisher, type Publisher } from './publishers.ts';

export interface MemoryFigures {
  idleMegabytes: number;
  oneStreamMegabytes: number;
  fiveStreamsMegabytes: number;
  /** (five streams - idle) / 5. */
  perStreamMegabytes: number;
  /** RSS every 5 s with one stream, MB. */
  drift: { seconds: number[]; megabytes: number[]; percent: number };
}

export interface MemoryResult {
  ours: MemoryFigures;
  nginx: MemoryFigures;
  driftSeconds: number;
}

const WARM_UP_SECONDS = 10;
const SAMPLE_EVERY_SECONDS = 5;
const megabytes = (bytes: number) => bytes / 1024 / 1024;
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** Growth from the first three samples to the last three, %. */
function driftPercent(values: number[]): number {
  const first = mean(values.slice(0, 3));
  return ((mean(values.slice(-3)) - first) / first) * 100;
}

export async function runMemoryStage(context: BenchContext): Promise<MemoryResult> {
  const servers = await context.servers();
  const source = await context.sourceFile(720);
  const driftSeconds = context.long ? 600 : 60;
  const sidecar = await startOurSidecar(servers.ours.edge, join(context.work, 'memory-sidecar'), { extraArgs: ['--ladder', 'none'] });
  const trackedSidecar = context.track({ stop: () => sidecar.process.stop() });
  const publishers: Publisher[] = [];
  const oursRss = () => megabytes(processRssBytes(sidecar.process.pid!));
  // Master and worker (streams published to app live start no exec ffmpeg).
  const nginxRss = () => megabytes(treeRssBytes(servers.nginx.process.pid!));
  const publish = (index: number) => {
    const stream = `mem${index}${Date.now().toString(36)}`;
    const seconds = driftSeconds + 120;
    publishers.push(context.track(startPublisher(context.ffmpeg, filePublisherArgs({ file: source, seconds, targets: [sidecar.publishUrl(stream), servers.nginx.publishUrl(stream)] }), stream)));
  };
  try {
    await pause(3000, context.signal);
    const idle = { ours: oursRss(), nginx: nginxRss() };
    context.status(`memory: idle sidecar ${idle.ours.toFixed(0)} MB, nginx ${idle.nginx.toFixed(0)} MB; one stream for ${driftSeconds} s (RSS every ${SAMPLE_EVERY_SECONDS} s)`);
    publish(0);
    await pause(WARM_UP_SECONDS * 1000, context.signal);
    const one = { ours: oursRss(), nginx: nginxRss() };
    const drift = { seconds: [] as number[], ours: [] as number[], nginx: [] as number[] };
    for (let elapsed = 0; elapsed <= driftSeconds; elapsed += SAMPLE_EVERY_SECONDS) {
      drift.seconds.push(elapsed);
      drift.ours.push(oursRss());
      drift.nginx.push(nginxRss());
      if (elapsed % 60 === 0 && elapsed > 0) context.status(`  ${elapsed} s: sidecar ${drift.ours.at(-1)!.toFixed(1)} MB, nginx ${drift.nginx.at(-1)!.toFixed(1)} MB`);
      if (elapsed < driftSeconds) await pause(SAMPLE_EVERY_SECONDS * 1000, context.signal);
    }
    context.status('memory: four more streams');
    for (let index = 1; index < 5; index++) {
      publish(index);
      await pause(100, context.signal);
    }
    await pause(WARM_UP_SECONDS * 1000, context.signal);
    const five = { ours: oursRss(), nginx: nginxRss() };
    const figures = (who: 'ours' | 'nginx'): MemoryFigures => ({
      idleMegabytes: idle[who],
      oneStreamMegabytes: one[who],
      fiveStreamsMegabytes: five[who],
      perStreamMegabytes: (five[who] - idle[who]) / 5,
      drift: { seconds: drift.seconds, megabytes: drift[who], percent: driftPercent(drift[who]) },
    });
    return { ours: figures('ours'), nginx: figures('nginx'), driftSeconds };
  } finally {
    for (const publisher of publishers) {
      context.untrack(publisher);
      await publisher.stop();
    }
    context.untrack(trackedSidecar);
    await sidecar.process.stop();
  }
}
