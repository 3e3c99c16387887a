/** The live channel's queue policy: in order, waiting for room, dropping only what outlived the part lifetime. */
import { describe, expect, it } from 'vitest';
import { takeSendable, type Outgoing } from '../../../ingest/upload/live-channel-queue.ts';

function item(name: string, queuedAt: number, size = 100): Outgoing {
  const part = { rendition: 'source', file: name, contentType: 'video/mp4', pieces: [new Uint8Array(size)], byteLength: size, msn: 1, duration: 0.3, independent: false, next: name, partTarget: 0.334 };
  return { kind: 'part', part, queuedAt, report: { sent: () => {}, dropped: () => {} } };
}
function withdrawal(name: string, queuedAt: number): Outgoing {
  return { kind: 'withdrawn', rendition: 'source', file: name, reason: 'storage is behind', queuedAt };
}
const names = (items: Outgoing[]) => items.map((entry) => (entry.kind === 'part' ? entry.part.file : entry.kind === 'segment' ? `segment ${entry.message.file}` : entry.kind === 'document' ? `document ${entry.path}` : `withdrawn ${entry.file}`));

describe('live channel queue', () => {
  it('sends everything in order while the socket has room', () => {
    const queue = [item('a', 0), item('b', 10), item('c', 20)];
    expect(names(takeSendable(queue, { now: 30, lifetimeMs: 6000, room: 10_000 }).send)).toEqual(['a', 'b', 'c']);
    expect(queue).toEqual([]);
  });

  it('keeps parts waiting, in order, while the socket is backed up or down (nothing dropped before its lifetime)', () => {
    const queue = [item('a', 0), item('b', 10)];
    expect(takeSendable(queue, { now: 5000, lifetimeMs: 6000, room: 0 })).toEqual({ send: [], drop: [] });
    expect(names(queue)).toEqual(['a', 'b']);
    // Room for one part: the oldest goes first.
    expect(names(takeSendable(queue, { now: 5000, lifetimeMs: 6000, room: 50 }).send)).toEqual(['a']);
    expect(names(queue)).toEqual(['b']);
  });

  it('sends the word that a part will not come in its place among the parts, waiting like them (never before the part that named it)', () => {
    const queue = [item('a', 0), withdrawal('b', 10), item('c', 20)];
    expect(takeSendable(queue, { now: 30, lifetimeMs: 6000, room: 0 })).toEqual({ send: [], drop: [] });
    expect(names(takeSendable(queue, { now: 30, lifetimeMs: 6000, room: 100 }).send)).toEqual(['a']);
    expect(names(takeSendable(queue, { now: 30, lifetimeMs: 6000, room: 10_000 }).send)).toEqual(['withdrawn b', 'c']);
    // Past the lifetime it goes unsent, as parts do: the edge's hold ran out long before.
    const old = [withdrawal('d', 0), item('e', 6500)];
    const { send, drop } = takeSendable(old, { now: 6600, lifetimeMs: 6000, room: 10_000 });
    expect([names(drop), names(send)]).toEqual([['withdrawn d'], ['e']]);
  });

  it('drops only the parts older than the part lifetime, then sends the rest', () => {
    const queue = [item('a', 0), item('b', 500), item('c', 6500)];
    const { send, drop } = takeSendable(queue, { now: 6600, lifetimeMs: 6000, room: 10_000 });
    expect(names(drop)).toEqual(['a', 'b']);
    expect(names(send)).toEqual(['c']);
  });

  it('sends a document in its place among the parts, counting its bytes against the room', () => {
    const document = (path: string, queuedAt: number): Outgoing => ({ kind: 'document', id: 1, path, contentType: 'application/vnd.apple.mpegurl', bytes: new Uint8Array(4000), queuedAt });
    const queue = [item('a', 0), document('source/index.m3u8', 10), item('b', 20)];
    // The part fits, the document's 4000 bytes take the rest: the next part waits.
    expect(names(takeSendable(queue, { now: 30, lifetimeMs: 6000, room: 3000 }).send)).toEqual(['a', 'document source/index.m3u8']);
    expect(names(queue)).toEqual(['b']);
    const old = [document('manifest.mpd', 0), item('c', 6500)];
    const { send, drop } = takeSendable(old, { now: 6600, lifetimeMs: 6000, room: 10_000 });
    expect([names(drop), names(send)]).toEqual([['document manifest.mpd'], ['c']]);
  });
});
