/**
 * Restream output states, from the sidecar that carries a stream to the platform (issue 17 item 2):
 * `POST /_ingest/registry/outputs` with a registry token, a stream's outputs as they are now. The
 * management API shows them beside each output; an output not in a report is not running.
 */
import { isPlaybackId } from './playback-id.ts';
import { MAX_OUTPUTS_PER_STREAM } from './restream-target.ts';

export const OUTPUT_STATES_PATH = '/_ingest/registry/outputs';

export const OUTPUT_STATES = ['connecting', 'live', 'retrying', 'failed'] as const;
export type OutputState = (typeof OUTPUT_STATES)[number];

/** Reasons are the output's last error, its key already redacted: bounded, one line. */
export const MAX_OUTPUT_REASON_CHARS = 300;

/** While a stream is live its sidecar reports at least this often; an older report is not believed. */
export const OUTPUT_STATE_REFRESH_MS = 30_000;
export const OUTPUT_STATE_STALE_MS = 3 * OUTPUT_STATE_REFRESH_MS;

export interface ReportedOutputState {
  id: string;
  state: OutputState;
  reason?: string;
}

export interface OutputStatesReport {
  playbackId: string;
  /** Every output the stream runs now; empty when the stream ended. */
  outputs: ReportedOutputState[];
}

// Ids the platform gives (out_ + 8 hex) and those of a streams file (its own, short and plain).
const OUTPUT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A report checked field by field, or the reason it is not one. */
export function parseOutputStatesReport(value: unknown): { ok: true; report: OutputStatesReport } | { ok: false; reason: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'expected a JSON object {playbackId, outputs}' };
  const { playbackId, outputs } = value as Record<string, unknown>;
  if (typeof playbackId !== 'string' || !isPlaybackId(playbackId)) return { ok: false, reason: 'playbackId is not a playback id' };
  if (!Array.isArray(outputs) || outputs.length > MAX_OUTPUTS_PER_STREAM) return { ok: false, reason: `outputs must be a list of at most ${MAX_OUTPUTS_PER_STREAM}` };
  const parsed: ReportedOutputState[] = [];
  for (const output of outputs as unknown[]) {
    const { id, state, reason } = (typeof output === 'object' && output !== null ? output : {}) as Record<string, unknown>;
    if (typeof id !== 'string' || !OUTPUT_ID.test(id)) return { ok: false, reason: 'an output id is not one' };
    if (!(OUTPUT_STATES as readonly unknown[]).includes(state)) return { ok: false, reason: `an output state is not one of ${OUTPUT_STATES.join(', ')}` };
    if (reason !== undefined && (typeof reason !== 'string' || reason.length > MAX_OUTPUT_REASON_CHARS || /[\r\n]/.test(reason))) {
      return { ok: false, reason: `an output reason is not one line of at most ${MAX_OUTPUT_REASON_CHARS} characters` };
    }
    parsed.push({ id, state: state as OutputState, ...(reason !== undefined ? { reason } : {}) });
  }
  return { ok: true, report: { playbackId, outputs: parsed } };
}

/** How the API says it in one line: `live`, `failed: connection refused`. */
export function outputStatusLine(state: OutputState | 'idle', reason?: string): string {
  return reason && (state === 'retrying' || state === 'failed') ? `${state}: ${reason}` : state;
}
