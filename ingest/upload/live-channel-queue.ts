/**
 * The live channel's queue policy, pure: which waiting parts go out now, which are dropped.
 * Parts leave in the order they came. A part is dropped only when it is older than the part
 * lifetime (nobody plays it any more); otherwise it waits for room on the socket.
 */
import type { PartFrame } from '../../shared/live-channel-protocol.ts';

/** What the owner hears of a part handed to the channel. */
export interface PartReport {
  sent(): void;
  /** Dropped (too old to be worth sending): the edge was told. */
  dropped(reason: string): void;
}

export interface Outgoing {
  kind: 'part';
  part: PartFrame;
  /** When the part was handed to the channel (milliseconds, the channel's clock). */
  queuedAt: number;
  report: PartReport;
}

export interface QueueState {
  now: number;
  lifetimeMs: number;
  /** Bytes the socket may take before it is backed up (0 or less: none; the channel is down or full). */
  room: number;
}

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
    room -= head.part.bytes.byteLength;
    send.push(queue.shift()!);
  }
  return { send, drop };
}
