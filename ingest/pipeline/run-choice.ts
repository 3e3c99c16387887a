/**
 * Whether a run needs ffmpeg: only when a rendition must be encoded. A ladder of the source's
 * video passed through ('copy') and its audio, when that audio is AAC-LC at 44.1/48 kHz, mono
 * or stereo, is remuxed in-process; anything else (a rung to encode, HE-AAC, MP3, odd rates, a
 * source whose configuration did not arrive in the probed seconds) needs ffmpeg for what the
 * sidecar cannot take (planRun says which renditions). Pure: decided from the ladder and the FLV
 * the probe buffered.
 */
import type { Rendition } from '../transcode/ladder.ts';
import { planRun, type RunPlan } from './run-plan.ts';

/** `plan`: who makes each rendition, when ffmpeg runs. */
export type RunChoice = { kind: 'remux' } | { kind: 'ffmpeg'; reason: string; plan: RunPlan };

export function chooseRun(renditions: readonly Rendition[], bufferedFlv: readonly Uint8Array[]): RunChoice {
  const plan = planRun(renditions, bufferedFlv);
  if (plan.encoded.length === 0) return { kind: 'remux' };
  return { kind: 'ffmpeg', reason: plan.reasons.join('; '), plan };
}
