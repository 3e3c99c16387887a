/**
 * A run's FLV on one timeline: the publisher's tags with their timestamps mapped once, by the
 * sidecar (FlvTimeline: zero at the run's first frame, 32-bit wraps unwrapped, jumps closed),
 * before anything consumes them. The in-process remuxer packages these timestamps as they are,
 * and ffmpeg (run with -copyts) encodes on them and writes them back on what it encodes: so a
 * rung's frame and the source frame it was made from carry the same presentation time, and
 * every rendition is cut on the same grid.
 *
 * Only frames move the timeline; a codec configuration or metadata tag is stamped with the
 * latest frame time (it describes what follows, and must not push the next frame later).
 */
import { FLV_AUDIO_FORMAT_AAC, FLV_TAG_AUDIO, FLV_TAG_VIDEO, FlvTagReader, type FlvTag } from '../media/flv-tag-reader.ts';
import { FlvTimeline } from '../media/flv-timeline.ts';

const FRAME_TYPE_COMMAND = 5;
const LEGACY_PACKET_CODED_FRAME = 1;
const ENHANCED_CODED_FRAMES = 1;
const ENHANCED_CODED_FRAMES_X = 3;
/** FLV video codecs whose tags carry a packet type (AVC; HEVC as some encoders send it with id 12). */
const PACKETISED_VIDEO_CODECS = new Set([7, 12]);
/** Enhanced-RTMP audio (FourCC in the tag). */
const FLV_AUDIO_FORMAT_EX_HEADER = 9;

/** Whether a tag carries media at its time (rather than a configuration, an end marker or a command). */
export function isMediaFrame(tag: FlvTag): boolean {
  const data = tag.data;
  if (tag.type === FLV_TAG_VIDEO) {
    if (data.length < 2) return false;
    if (((data[0]! >> 4) & 0x07) === FRAME_TYPE_COMMAND) return false;
    if (data[0]! & 0x80) {
      const packetType = data[0]! & 0x0f;
      return packetType === ENHANCED_CODED_FRAMES || packetType === ENHANCED_CODED_FRAMES_X;
    }
    return PACKETISED_VIDEO_CODECS.has(data[0]! & 0x0f) ? data[1] === LEGACY_PACKET_CODED_FRAME : true;
  }
  if (tag.type === FLV_TAG_AUDIO) {
    if (data.length < 1) return false;
    const format = data[0]! >> 4;
    if (format === FLV_AUDIO_FORMAT_AAC) return data.length >= 2 && data[1] === 1;
    if (format === FLV_AUDIO_FORMAT_EX_HEADER) return (data[0]! & 0x0f) === ENHANCED_CODED_FRAMES;
    return true;
  }
  return false;
}

export class FlvRestamper {
  private readonly tags = new FlvTagReader();
  private readonly timeline: FlvTimeline;
  /** The latest frame time given out, milliseconds: what a configuration tag is stamped with. */
  private latest = 0;

  /** `onNotice`: a timestamp correction, in words, for the log. */
  constructor(onNotice: (message: string) => void) {
    this.timeline = new FlvTimeline(onNotice);
  }

  /** The tags these bytes complete, each with its time on the run's timeline (milliseconds). */
  push(flv: Uint8Array): FlvTag[] {
    const out: FlvTag[] = [];
    for (const tag of this.tags.push(flv)) {
      if (tag.type !== FLV_TAG_VIDEO && tag.type !== FLV_TAG_AUDIO) {
        out.push({ ...tag, timestamp: this.latest });
        continue;
      }
      if (!isMediaFrame(tag)) {
        out.push({ ...tag, timestamp: this.latest });
        continue;
      }
      const time = this.timeline.map(tag.type === FLV_TAG_VIDEO ? 'video' : 'audio', tag.timestamp);
      this.latest = Math.max(this.latest, time);
      out.push({ ...tag, timestamp: time });
    }
    return out;
  }
}
