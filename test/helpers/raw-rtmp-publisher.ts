/**
 * A publisher that sends FLV tags over RTMP exactly as stamped, at the pace of the media: what
 * ffmpeg cannot be made to send (it re-bases timestamps to zero and clamps negative ones, so a
 * 32-bit wrap or a clock that jumps back never reaches the server through it). Each tag is one
 * RTMP message with an absolute (type-0) header, as publishers send after a timestamp change.
 */
import { connect, type Socket } from 'node:net';
import type { FlvTag } from '../../ingest/media/flv-tag-reader.ts';
import { FLV_TAG_AUDIO, FLV_TAG_VIDEO } from '../../ingest/media/flv-tag-reader.ts';
import { chunkMessage, clientHandshake, command, connectCommand, MessageType, publishCommand, setChunkSize } from '../../scripts/lib/rtmp-wire.ts';

/** A tag to send, and when: `atMs` of media after the first (its pace, whatever its timestamp says). */
export interface PacedTag {
  tag: FlvTag;
  atMs: number;
}

export interface RawRtmpPublisher {
  /** Every tag sent (or the connection failed). */
  done: Promise<void>;
  stop(): void;
}

const CHUNK_SIZE = 4096;
// The chunk streams ffmpeg uses for audio and video messages.
const AUDIO_CHUNK_STREAM = 4;
const VIDEO_CHUNK_STREAM = 6;
// The message stream createStream gives a connection's first stream.
const MESSAGE_STREAM = 1;

/** Publishes `tags` (audio and video; others are skipped) to `rtmp://HOST:PORT/APP/STREAM`. */
export function publishTagsOverRtmp(url: string, tags: readonly PacedTag[]): RawRtmpPublisher {
  const target = new URL(url);
  const [app, stream] = target.pathname.slice(1).split('/');
  if (!app || !stream) throw new Error(`expected rtmp://HOST:PORT/APP/STREAM, got ${url}`);
  let stopped = false;
  let socket: Socket | undefined;
  const done = new Promise<void>((resolve, reject) => {
    socket = connect({ host: target.hostname, port: Number(target.port || 1935) });
    socket.on('error', reject);
    // The server's answers (acknowledgements, onStatus) are not needed: read and dropped so they never fill the socket.
    socket.on('data', () => {});
    socket.once('connect', () => {
      const tcUrl = `rtmp://${target.host}/${app}`;
      socket!.write(Buffer.concat([clientHandshake(), setChunkSize(CHUNK_SIZE), connectCommand(app, tcUrl, { chunkSize: CHUNK_SIZE }), command('createStream', 2, [null], { chunkSize: CHUNK_SIZE }), publishCommand(stream, { chunkSize: CHUNK_SIZE })]));
      void sendPaced(socket!, tags, () => stopped).then(() => {
        socket!.end();
        resolve();
      }, reject);
    });
  });
  return {
    done,
    stop: () => {
      stopped = true;
      socket?.destroy();
    },
  };
}

async function sendPaced(socket: Socket, tags: readonly PacedTag[], stopped: () => boolean): Promise<void> {
  const start = performance.now();
  for (const { tag, atMs } of tags) {
    if (stopped()) return;
    if (tag.type !== FLV_TAG_AUDIO && tag.type !== FLV_TAG_VIDEO) continue;
    const wait = start + atMs - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const message = chunkMessage({
      chunkStreamId: tag.type === FLV_TAG_AUDIO ? AUDIO_CHUNK_STREAM : VIDEO_CHUNK_STREAM,
      type: tag.type === FLV_TAG_AUDIO ? MessageType.audio : MessageType.video,
      payload: tag.data,
      chunkSize: CHUNK_SIZE,
      playbackId: MESSAGE_STREAM,
      timestamp: tag.timestamp >>> 0,
    });
    if (!socket.write(message)) await new Promise((resolve) => socket.once('drain', resolve));
  }
}
