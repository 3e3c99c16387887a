/**
 * A run's renditions, decided from its source (pure): the stream's first source chooses the
 * stream's ladder; a later source (a reconnect, an encoder restart) keeps that ladder and only
 * decides how the top is made (passed through when this source allows it, else encoded).
 */
import { keyframeIntervalUnknown, planLadder, SOURCE_RENDITION, withEncodedTop, type LadderConfig, type Rendition, type SourceFacts } from '../transcode/ladder.ts';

export interface RunRenditionsInput {
  facts: SourceFacts;
  ladder: LadderConfig;
  targetSegmentDuration: number;
  /** The stream's ladder, once its first source chose it. */
  streamLadder: readonly Rendition[] | undefined;
  /** Why the top rendition is encoded for the rest of the stream, if it is. */
  encodeTopFromNowOn: string | undefined;
}

export interface LogNote {
  level: 'info' | 'warn';
  fields?: Record<string, unknown>;
  message: string;
}

export interface RunRenditions {
  renditions: readonly Rendition[];
  /** The stream's ladder, chosen by this (its first) source. */
  chosenLadder?: readonly Rendition[];
  /** What to tell the operator. */
  notes: LogNote[];
}

export function runRenditions({ facts, ladder, targetSegmentDuration, streamLadder, encodeTopFromNowOn }: RunRenditionsInput): RunRenditions {
  const plan = planLadder(facts, ladder, targetSegmentDuration);
  const source = facts.video ? `${facts.video.width}x${facts.video.height}` : 'no video';
  const top = encodeTopFromNowOn ?? plan.encodeReason;
  const unknownGop: LogNote[] =
    !top && facts.video && keyframeIntervalUnknown(facts.video, targetSegmentDuration)
      ? [{ level: 'warn', message: `the source came slower than real time (${facts.video.probedSeconds.toFixed(1)} s of media before the probe's time ran out): its keyframe interval is not known yet; it passes through, and the top is encoded if a keyframe comes overdue` }]
      : [];
  if (!streamLadder) {
    const message = `ladder chosen${top ? `; the top rendition is encoded: ${top}` : '; the source passes through'}`;
    return { renditions: plan.renditions, chosenLadder: plan.renditions, notes: [...unknownGop, { level: 'info', fields: { ladder: plan.renditions.map((rendition) => rendition.name), source }, message }] };
  }
  const notes: LogNote[] = [...unknownGop];
  const planned = new Map(plan.renditions.map((rendition) => [rendition.name, rendition]));
  if ([...planned.keys()].join() !== streamLadder.map((rendition) => rendition.name).join()) {
    notes.push({ level: 'warn', fields: { ladder: streamLadder.map((rendition) => rendition.name), source }, message: 'the source changed since the stream started; keeping its ladder' });
  }
  const renditions = streamLadder.map((rendition) => (rendition.name === SOURCE_RENDITION ? (planned.get(SOURCE_RENDITION) ?? rendition) : rendition));
  if (top) notes.push({ level: 'info', message: `the top rendition is encoded: ${top}` });
  return { renditions: encodeTopFromNowOn ? withEncodedTop(renditions, ladder, facts.video?.height ?? 0) : renditions, notes };
}
