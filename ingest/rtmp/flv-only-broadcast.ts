/**
 * node-media-server 4.4.3 prepares every packet of a publisher for two kinds of players: its
 * BroadcastServer.broadcastMessage makes an FLV tag (for HTTP-FLV players) and a chunked RTMP
 * message (for RTMP players) of each, and keeps the current GOP of both for players that join.
 * The sidecar has one subscriber per stream, its own FLV tap, and refuses RTMP playback; the
 * RTMP copies and their GOP were ~7 % of a busy sidecar's CPU and ~0.6 MB per 2.5 Mbit/s stream
 * (a 2 s GOP), for nobody. node-media-server has no setting for it, so a tapped broadcast's
 * `broadcastMessage` is replaced by `flvOnlyBroadcastMessage`: the same FLV tags, headers and
 * FLV GOP (a resubscribe replays them to a restarted ffmpeg), nothing for RTMP.
 *
 * The one copy kept: a packet's payload is node-media-server's parser buffer for its chunk
 * stream, overwritten by the next message, so the tag is a copy of it (allocUnsafe: every byte is
 * written). From the tag on, the sidecar reads views.
 *
 * Not done for the tap's sake: the publisher's metadata fields (videoWidth, audioCodec, ...) that
 * node-media-server's own HTTP API shows; the sidecar does not run that API.
 */
import type { AvPacket, BroadcastServer } from 'node-media-server/src/core/context.js';

const FLV_TAG_HEADER = 11;
const PREVIOUS_TAG_SIZE = 4;
// node-media-server's packet flags (Flv.parserTag).
const AUDIO_HEADER = 0;
const AUDIO_FRAME = 1;
const VIDEO_HEADER = 2;
const KEYFRAME = 3;
const INTER_FRAME = 4;
const METADATA = 5;
// As node-media-server: a GOP longer than this many packets is not kept.
const MAX_GOP_PACKETS = 4096;

/** The FLV tag of a packet, as node-media-server's Flv.createMessage writes it. */
export function flvTagOf(packet: AvPacket): Buffer {
  const size = packet.size;
  const tag = Buffer.allocUnsafe(FLV_TAG_HEADER + size + PREVIOUS_TAG_SIZE);
  tag[0] = packet.codec_type;
  tag.writeUIntBE(size, 1, 3);
  tag[4] = (packet.dts >> 16) & 0xff;
  tag[5] = (packet.dts >> 8) & 0xff;
  tag[6] = packet.dts & 0xff;
  tag[7] = (packet.dts >> 24) & 0xff;
  // Stream id: always 0.
  tag[8] = 0;
  tag[9] = 0;
  tag[10] = 0;
  packet.data.copy(tag, FLV_TAG_HEADER, 0, size);
  tag.writeUInt32BE(FLV_TAG_HEADER + size, FLV_TAG_HEADER + size);
  return tag;
}

/** Makes `broadcast` prepare FLV tags only (idempotent). */
export function broadcastFlvOnly(broadcast: BroadcastServer): void {
  broadcast.rtmpGopCache?.clear();
  broadcast.rtmpGopCache = null;
  broadcast.rtmpMetaData = broadcast.rtmpAudioHeader = broadcast.rtmpVideoHeader = null;
  broadcast.broadcastMessage = (packet) => flvOnlyBroadcastMessage(broadcast, packet);
}

function flvOnlyBroadcastMessage(broadcast: BroadcastServer, packet: AvPacket): void {
  // A publish resumed within node-media-server's grace keeps its timeline, as in the original
  // (the sidecar sets the grace to 0, so this stays 0 in practice).
  const dtsOffset = broadcast._dtsOffset[packet.codec_type] || 0;
  if (dtsOffset > 0 && (packet.flags === AUDIO_FRAME || packet.flags === KEYFRAME || packet.flags === INTER_FRAME)) {
    packet.dts += dtsOffset;
    packet.pts += dtsOffset;
  }
  if (packet.codec_type === 8 || packet.codec_type === 9) broadcast._lastDts[packet.codec_type] = packet.dts;
  const tag = flvTagOf(packet);
  switch (packet.flags) {
    case AUDIO_HEADER:
      broadcast.flvAudioHeader = tag;
      break;
    case VIDEO_HEADER:
      broadcast.flvVideoHeader = tag;
      break;
    case METADATA:
      broadcast.flvMetaData = tag;
      break;
    case KEYFRAME:
      broadcast.flvGopCache?.clear();
      broadcast.flvGopCache = new Set([tag]);
      break;
    case AUDIO_FRAME:
    case INTER_FRAME:
      broadcast.flvGopCache?.add(tag);
      break;
  }
  if (broadcast.flvGopCache && broadcast.flvGopCache.size > MAX_GOP_PACKETS) broadcast.flvGopCache.clear();
  for (const subscriber of broadcast.subscribers.values()) {
    if (subscriber.protocol === 'flv') subscriber.sendBuffer(tag);
  }
}
