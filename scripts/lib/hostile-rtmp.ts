/**
 * Hostile RTMP clients, one kind per way a peer can abuse an RTMP server: what they send, and
 * how long the server took to close the connection. For the hostile-RTMP test and load script.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import {
  HANDSHAKE_BLOCK,
  MessageType,
  RTMP_VERSION,
  amf0,
  chunkHeader,
  chunkMessage,
  clientHandshake,
  command,
  connectCommand,
  playCommand,
  publishCommand,
  setChunkSize,
} from './rtmp-wire.ts';

export interface HostileTarget {
  host: string;
  port: number;
  /** The source address to connect from (any 127.x.y.z works on Linux loopback). */
  localAddress?: string;
}

interface HostileKind {
  description: string;
  /** Writes to the socket (over time, for the slow ones). */
  run(socket: Socket): void;
}

const tcUrl = (target: HostileTarget) => `rtmp://${target.host}:${target.port}/live`;
const randomKey = () => randomBytes(16).toString('hex');
const connectAndCreate = (target: HostileTarget) => Buffer.concat([clientHandshake(), connectCommand('live', tcUrl(target)), command('createStream', 2, [null])]);

/** A timer that stops with the socket. */
function every(socket: Socket, ms: number, tick: () => void): void {
  const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : tick()), ms);
  socket.once('close', () => clearInterval(timer));
}

function kinds(target: HostileTarget): Record<string, HostileKind> {
  return {
    'random-bytes': { description: '3 kB of random bytes instead of a handshake', run: (socket) => socket.write(randomBytes(3000)) },
    'handshake-then-random': {
      description: 'a handshake, then 3 kB of random bytes (read as chunk headers announcing huge messages)',
      run: (socket) => socket.write(Buffer.concat([clientHandshake(), randomBytes(3000)])),
    },
    'truncated-handshake': { description: 'C0 and half of C1, then silence', run: (socket) => socket.write(Buffer.concat([Buffer.from([RTMP_VERSION]), randomBytes(HANDSHAKE_BLOCK / 2)])) },
    'silent-after-handshake': { description: 'a handshake, then silence (slow-loris)', run: (socket) => socket.write(clientHandshake()) },
    'drip-feed': {
      description: 'a handshake, then a connect command one byte every 0.5 s (slow-loris that is never idle)',
      run: (socket) => {
        socket.write(clientHandshake());
        const bytes = connectCommand('live', tcUrl(target));
        let sent = 0;
        every(socket, 500, () => sent < bytes.length && socket.write(bytes.subarray(sent, ++sent)));
      },
    },
    'huge-messages': {
      description: 'a handshake, then 16 MiB messages announced on 40 chunk streams, 128 bytes of each sent',
      run: (socket) => {
        const headers = Array.from({ length: 40 }, (_, index) => [
          chunkHeader({ format: 0, chunkStreamId: 3 + index, length: 0xffffff, type: index % 2 ? MessageType.video : MessageType.commandAmf0 }),
          Buffer.alloc(128),
        ]);
        socket.write(Buffer.concat([clientHandshake(), ...headers.flat()]));
      },
    },
    'many-chunk-streams': {
      description: 'a handshake, then small messages on 100 chunk stream ids',
      run: (socket) => {
        const messages = Array.from({ length: 100 }, (_, index) => chunkMessage({ chunkStreamId: 3 + index, type: MessageType.sharedObjectAmf0, payload: Buffer.alloc(100) }));
        socket.write(Buffer.concat([clientHandshake(), ...messages]));
      },
    },
    'chunk-size-zero': { description: 'Set Chunk Size 0', run: (socket) => socket.write(Buffer.concat([clientHandshake(), setChunkSize(0), connectCommand('live', tcUrl(target))])) },
    'chunk-size-huge': { description: 'Set Chunk Size 2^31-1', run: (socket) => socket.write(Buffer.concat([clientHandshake(), setChunkSize(0x7fff_ffff), connectCommand('live', tcUrl(target))])) },
    'chunk-size-negative': {
      description: 'Set Chunk Size with the top bit set',
      run: (socket) => socket.write(Buffer.concat([clientHandshake(), setChunkSize(0x8000_0000), connectCommand('live', tcUrl(target))])),
    },
    'bogus-amf': {
      description: 'a command message of random AMF bytes',
      run: (socket) => socket.write(Buffer.concat([clientHandshake(), chunkMessage({ chunkStreamId: 3, type: MessageType.commandAmf0, payload: Buffer.concat([Buffer.from([0x0d]), randomBytes(100)]) })])),
    },
    'connect-without-tcurl': {
      description: 'a connect command without tcUrl',
      run: (socket) => socket.write(Buffer.concat([clientHandshake(), command('connect', 1, [{ app: 'live' }])])),
    },
    'publish-without-connect': {
      description: 'createStream and publish without connect',
      run: (socket) => socket.write(Buffer.concat([clientHandshake(), command('createStream', 2, [null]), publishCommand(randomKey())])),
    },
    'long-stream-name': {
      description: 'a publish with a 60 000-character stream name',
      run: (socket) => socket.write(Buffer.concat([connectAndCreate(target), publishCommand('a'.repeat(60_000))])),
    },
    'wrong-key': { description: 'a publish with a made-up stream key', run: (socket) => socket.write(Buffer.concat([connectAndCreate(target), publishCommand(randomKey())])) },
    'media-before-publish': {
      description: 'video before any publish',
      run: (socket) =>
        socket.write(Buffer.concat([connectAndCreate(target), chunkMessage({ chunkStreamId: 6, type: MessageType.video, payload: Buffer.alloc(10_000, 0x17), playbackId: 1 })])),
    },
    play: { description: 'a play request', run: (socket) => socket.write(Buffer.concat([connectAndCreate(target), playCommand(randomKey())])) },
    'bogus-metadata': {
      description: 'an @setDataFrame before publish',
      run: (socket) =>
        socket.write(Buffer.concat([connectAndCreate(target), chunkMessage({ chunkStreamId: 4, type: MessageType.dataAmf0, payload: amf0('@setDataFrame', 'onMetaData', { width: 1 }) })])),
    },
  };
}

export const HOSTILE_KINDS: readonly string[] = Object.keys(kinds({ host: '127.0.0.1', port: 1 }));

export function describeHostileKind(kind: string): string {
  return kinds({ host: '127.0.0.1', port: 1 })[kind]?.description ?? 'unknown';
}

export interface HostileOutcome {
  kind: string;
  /** The server closed (or reset) the connection; false: it was still open when we gave up. */
  closedByServer: boolean;
  /** Could not connect at all (refused at accept, or the port is gone). */
  connectFailed: boolean;
  milliseconds: number;
}

/** One hostile connection of the given kind; resolves when the server closes it, or after `giveUpMs`. */
export function runHostileConnection(kind: string, target: HostileTarget, giveUpMs: number): Promise<HostileOutcome> {
  const behaviour = kinds(target)[kind];
  if (!behaviour) throw new Error(`unknown hostile kind ${kind}`);
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port, localAddress: target.localAddress });
    let connected = false;
    let settled = false;
    const finish = (closedByServer: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ kind, closedByServer, connectFailed: !connected, milliseconds: performance.now() - started });
    };
    const giveUp = setTimeout(() => finish(false), giveUpMs);
    socket.once('connect', () => {
      connected = true;
      behaviour.run(socket);
    });
    // The server's answers (S0S1S2, _result) are read and dropped, as a careless client would.
    socket.on('data', () => {});
    socket.on('error', () => {});
    socket.once('end', () => finish(true));
    socket.once('close', () => finish(true));
  });
}
