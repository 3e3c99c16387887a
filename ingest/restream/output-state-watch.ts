/**
 * Tells the platform how each live stream's restream outputs are doing (issue 17 item 2): every
 * couple of seconds the outputs' states are compared with what was last reported, and a stream's
 * are sent when they changed (or every OUTPUT_STATE_REFRESH_MS, so the platform can tell a report
 * from a dead sidecar's last word). A stream that ends reports no outputs. A report that fails is
 * simply sent again at the next look: only the newest state matters.
 */
import type { Logger } from 'pino';
import { MAX_OUTPUT_REASON_CHARS, OUTPUT_STATE_REFRESH_MS, OUTPUT_STATES_PATH, type OutputStatesReport, type ReportedOutputState } from '../../shared/output-states.ts';
import { registryLookupToken } from '../../shared/registry-lookup.ts';
import type { OutputStatus } from './restream-output.ts';

const LOOK_EVERY_MS = 2_000;
const REPORT_TIMEOUT_MS = 5_000;

/** Where reports go (the platform's ingest API, or a test's list). */
export type OutputStatesSink = (report: OutputStatesReport) => Promise<void>;

export interface StreamOutputs {
  playbackId: string;
  outputs: readonly OutputStatus[];
}

interface Reported {
  text: string;
  at: number;
}

export class OutputStateWatch {
  private readonly sink: OutputStatesSink;
  private readonly streams: () => readonly StreamOutputs[];
  private readonly now: () => number;
  private readonly reported = new Map<string, Reported>();
  private readonly timer: NodeJS.Timeout;
  private sending = false;

  constructor(sink: OutputStatesSink, streams: () => readonly StreamOutputs[], now: () => number = Date.now) {
    this.sink = sink;
    this.streams = streams;
    this.now = now;
    this.timer = setInterval(() => void this.look(), LOOK_EVERY_MS);
    this.timer.unref();
  }

  /** Sends what changed (or is due again); one look at a time. */
  async look(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      for (const stream of this.streams()) {
        if (stream.outputs.length === 0 && !this.reported.has(stream.playbackId)) continue;
        await this.send(stream.playbackId, stream.outputs.map(reportedState));
      }
    } finally {
      this.sending = false;
    }
  }

  /** The stream ended here: its outputs run no more. */
  ended(playbackId: string): void {
    if (!this.reported.has(playbackId)) return;
    void this.send(playbackId, []).then(() => this.reported.delete(playbackId));
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async send(playbackId: string, outputs: ReportedOutputState[]): Promise<void> {
    const text = JSON.stringify(outputs);
    const last = this.reported.get(playbackId);
    if (last && last.text === text && this.now() - last.at < OUTPUT_STATE_REFRESH_MS) return;
    try {
      await this.sink({ playbackId, outputs });
      this.reported.set(playbackId, { text, at: this.now() });
    } catch {
      // Sent again at the next look (the sink logs why).
    }
  }
}

function reportedState({ id, state, reason }: OutputStatus): ReportedOutputState {
  const line = reason?.replace(/\s+/g, ' ').slice(0, MAX_OUTPUT_REASON_CHARS);
  return { id, state, ...(line && state !== 'live' ? { reason: line } : {}) };
}

/** Reports to the platform's ingest API with a registry token from the ingest secret. */
export function platformOutputStatesSink(options: { edgeUrl: string; ingestSecret: string; log: Logger }): OutputStatesSink {
  let warned = false;
  return async (report) => {
    try {
      const response = await fetch(new URL(OUTPUT_STATES_PATH, options.edgeUrl), {
        method: 'POST',
        headers: { authorization: `Bearer ${await registryLookupToken(options.ingestSecret)}`, 'content-type': 'application/json' },
        body: JSON.stringify(report),
        signal: AbortSignal.timeout(REPORT_TIMEOUT_MS),
      });
      const answer = await response.text();
      if (!response.ok) throw new Error(`the platform answered ${response.status}: ${answer.slice(0, 200)}`);
      warned = false;
    } catch (error) {
      // Once per run of failures: the edge may be restarting.
      if (!warned) options.log.warn({ err: error, playbackId: report.playbackId }, 'could not report restream output states to the platform; trying again');
      warned = true;
      throw error;
    }
  };
}
