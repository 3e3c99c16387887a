import { describe, expect, it } from 'vitest';
import type { OutputStatesReport } from '../../../shared/output-states.ts';
import { OutputStateWatch, type StreamOutputs } from '../../../ingest/restream/output-state-watch.ts';
import type { OutputStatus } from '../../../ingest/restream/restream-output.ts';

const output = (id: string, state: OutputStatus['state'], reason?: string): OutputStatus => ({ id, url: 'rtmp://target.example/live/***', state, ...(reason ? { reason } : {}), reconnects: 0, droppedBytes: 0 });

function watchWith(streams: StreamOutputs[], options: { failing?: () => boolean } = {}) {
  const reports: OutputStatesReport[] = [];
  let now = 0;
  const watch = new OutputStateWatch(
    async (report) => {
      if (options.failing?.()) throw new Error('the platform is away');
      reports.push(report);
    },
    () => streams,
    () => now,
  );
  watch.stop();
  return { watch, reports, advance: (ms: number) => (now += ms) };
}

describe("the sidecar's reports of its restream outputs' states", () => {
  it('reports a change once, not again while nothing changes, and again when it does', async () => {
    const streams = [{ playbackId: 'pbsimulcast', outputs: [output('out_0000000a', 'connecting')] }];
    const { watch, reports, advance } = watchWith(streams);
    await watch.look();
    await watch.look();
    expect(reports).toEqual([{ playbackId: 'pbsimulcast', outputs: [{ id: 'out_0000000a', state: 'connecting' }] }]);
    streams[0]!.outputs = [output('out_0000000a', 'retrying', 'Connection refused\nwhile opening')];
    advance(2_000);
    await watch.look();
    expect(reports.at(-1)).toEqual({ playbackId: 'pbsimulcast', outputs: [{ id: 'out_0000000a', state: 'retrying', reason: 'Connection refused while opening' }] });
    expect(reports).toHaveLength(2);
  });

  it('says the same again after 30 s so that the platform can tell it from a dead sidecar', async () => {
    const { watch, reports, advance } = watchWith([{ playbackId: 'pbsimulcast', outputs: [output('out_0000000a', 'live', 'an old error')] }]);
    await watch.look();
    advance(29_000);
    await watch.look();
    expect(reports).toHaveLength(1);
    advance(2_000);
    await watch.look();
    expect(reports).toHaveLength(2);
    // A live output carries no reason (the error it had before it went live is over).
    expect(reports[1]!.outputs).toEqual([{ id: 'out_0000000a', state: 'live' }]);
  });

  it('sends a report that failed again at the next look', async () => {
    let failing = true;
    const { watch, reports } = watchWith([{ playbackId: 'pbsimulcast', outputs: [output('out_0000000a', 'failed', 'gave up after 8 attempts')] }], { failing: () => failing });
    await watch.look();
    expect(reports).toHaveLength(0);
    failing = false;
    await watch.look();
    expect(reports).toEqual([{ playbackId: 'pbsimulcast', outputs: [{ id: 'out_0000000a', state: 'failed', reason: 'gave up after 8 attempts' }] }]);
  });

  it('reports no outputs for a stream that ended, and nothing for streams without outputs', async () => {
    const { watch, reports } = watchWith([
      { playbackId: 'pbsimulcast', outputs: [output('out_0000000a', 'live')] },
      { playbackId: 'pbplain', outputs: [] },
    ]);
    await watch.look();
    watch.ended('pbsimulcast');
    watch.ended('pbplain');
    await new Promise((resolve) => setImmediate(resolve));
    expect(reports).toEqual([
      { playbackId: 'pbsimulcast', outputs: [{ id: 'out_0000000a', state: 'live' }] },
      { playbackId: 'pbsimulcast', outputs: [] },
    ]);
  });
});
