/**
 * The live channel's queue policy, pure: which waiting items go out now, which are dropped.
 * Items leave in the order they came: parts, and the word that a part will not come (which must
 * not overtake the part that named it as next), segments named by their parts, documents. An item is dropped only when it is older than the
 * part lifetime (nobody plays it any more); otherwise it waits for room on the socket.
 */
import type { PartFrame, SegmentMessage } from '../../shared/live-channel-protocol.ts';

/** What the owner hears of a part handed to the channel. */
export interface PartReport {
  sent(): void;
  /** Dropped (too old to be worth sending): the edge was told. */
  dropped(reason: string): void;
}

/**
 * A part as the sidecar hands it to its channel: PartFrame's fields, its bytes as the list of its
 * pieces (the packager's header and views of the frames' bytes), sent without joining them.
 */
export interface OutgoingPart extends Omit<PartFrame, 'bytes'> {
  pieces: readonly Uint8Array[];
  /** Bytes of all its pieces together. */
  byteLength: number;
}

export interface QueuedPart {
  kind: 'part';
  part: OutgoingPart;
  /** When the item was handed to the channel (milliseconds, the channel's clock). */
  queuedAt: number;
  report: PartReport;
}

/** A part named as next that the sidecar will not send: the edge answers whoever waits for it. */
export interface QueuedWithdrawal {
  kind: 'withdrawn';
  rendition: string;
  file: string;
  reason: string;
  queuedAt: number;
}

/** A segment for the edge to store from its parts, sent after them; its answer settles `pending`. */
export interface QueuedSegment {
  kind: 'segment';
  message: SegmentMessage;
  queuedAt: number;
}

/** A document (playlist, MPD, status) for the edge to write; its answer settles it. */
export interface QueuedDocument {
  kind: 'document';
  id: number;
  path: string;
  contentType: string;
  bytes: Uint8Array;
  queuedAt: number;
}

export type Outgoing = QueuedPart | QueuedWithdrawal | QueuedSegment | QueuedDocument;

export interface QueueState {
  now: number;
  lifetimeMs: number;
  /** Bytes the socket may take before it is backed up (0 or less: none; the channel is down or full). */
  room: number;
}

/** A withdrawal's or a segment's text frame is a few hundred bytes at most: counted as this much against the room. */
const CONTROL_BYTES = 200;

/** Takes from the head of `queue` (in place) what to drop and what to send now. */
export function takeSendable(queue: Outgoing[], state: QueueState): { send: Outgoing[]; drop: Outgoing[] } {
  const drop: Outgoing[] = [];
  const send: Outgoing[] = [];
  let room = state.room;
  while (queue.length > 0) {
    const head = queue[0]!;
    if (state.now - head.queuedAt > state.lifetimeMs) {
      drop.push(queue.shift()!);
      continue;
    }
    if (room <= 0) break;
    room -= head.kind === 'part' ? head.part.byteLength : head.kind === 'document' ? head.bytes.byteLength : CONTROL_BYTES;
    send.push(queue.shift()!);
  }
  return { send, drop };
}
