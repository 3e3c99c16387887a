/**
 * FLV tags -> frames: H.264 access units and raw AAC frames on a continuous millisecond
 * timeline, and the codec configurations they need. Payloads are views into the tag's bytes
 * (as node-media-server handed them over), never copies: the packager copies each frame once,
 * into its part.
 *
 * What the in-process remuxer cannot take (video other than AVC, audio other than AAC-LC
 * 44.1/48 kHz mono/stereo) throws an UnsupportedSourceError subclass, so the caller can hand the
 * stream to ffmpeg instead.
 */
import { parsePassableAacConfig, UnsupportedAudioError, UnsupportedSourceError, type AacConfig } from './aac-config.ts';
import { AvcFormatError, parseAvcDecoderConfiguration, type AvcParameters } from './avc-parameters.ts';
import { FLV_AUDIO_FORMAT_AAC, FLV_TAG_AUDIO, FLV_TAG_VIDEO, FLV_VIDEO_CODEC_AVC, type FlvTag } from './flv-tag-reader.ts';
import { FlvTimeline, type TimelineTrack } from './flv-timeline.ts';

export class UnsupportedVideoError extends UnsupportedSourceError {
  override name = 'UnsupportedVideoError';
}

export interface AvcConfig {
  /** The AVCDecoderConfigurationRecord (ISO/IEC 14496-15), for the avcC of the init segment. */
  record: Uint8Array;
  parameters: AvcParameters;
}

export interface VideoAccessUnit {
  /** Decode time, media milliseconds since the run's first frame. */
  decodeTime: number;
  /** Presentation minus decode time, milliseconds (FLV's signed composition time). */
  compositionOffset: number;
  keyframe: boolean;
  /** Length-prefixed NAL units (AVCC), a view into the tag. */
  data: Uint8Array;
}

export interface AacFrame {
  /** Media milliseconds since the run's first frame. */
  time: number;
  /** One raw AAC frame (no ADTS header), a view into the tag. */
  data: Uint8Array;
}

export type MediaEvent =
  | { type: 'video-config'; config: AvcConfig }
  | { type: 'audio-config'; config: AacConfig }
  | { type: 'video'; frame: VideoAccessUnit }
  | { type: 'audio'; frame: AacFrame };

const AVC_SEQUENCE_HEADER = 0;
const AVC_NALU = 1;
const AAC_SEQUENCE_HEADER = 0;
const FRAME_TYPE_KEY = 1;
const FRAME_TYPE_COMMAND = 5;
const SOUND_FORMATS: Record<number, string> = { 2: 'MP3', 10: 'AAC', 11: 'Speex', 14: 'MP3 8 kHz', 7: 'G.711 A-law', 8: 'G.711 mu-law', 0: 'PCM', 3: 'PCM', 1: 'ADPCM', 4: 'Nellymoser', 5: 'Nellymoser', 6: 'Nellymoser' };

/** Media milliseconds for a frame's FLV timestamp: FlvTimeline's mapping, or the timestamp as it is (FLV already on the run's timeline). */
export interface FrameTimeline {
  map(track: TimelineTrack, timestamp32: number): number;
}

/** For FLV whose timestamps are already on the run's timeline (restamped by the sidecar, or written by ffmpeg from it). */
export const AS_STAMPED: FrameTimeline = { map: (_track, timestamp) => timestamp };

export class FlvFrameReader {
  private readonly timeline: FrameTimeline;
  private videoConfig: Uint8Array | undefined;
  private audioConfig: Uint8Array | undefined;

  /** `onNotice`: a timestamp correction, in words, for the log. `timeline`: FlvTimeline's continuous one unless given. */
  constructor(onNotice: (message: string) => void, timeline: FrameTimeline = new FlvTimeline(onNotice)) {
    this.timeline = timeline;
  }

  /**
   * What one tag carries, if anything the packager needs: a configuration only when it differs
   * from the previous one (encoders repeat them), frames only once their configuration is known.
   */
  take(tag: FlvTag): MediaEvent | undefined {
    if (tag.type === FLV_TAG_VIDEO) return this.takeVideo(tag);
    if (tag.type === FLV_TAG_AUDIO) return this.takeAudio(tag);
    return undefined;
  }

  private takeVideo(tag: FlvTag): MediaEvent | undefined {
    const data = tag.data;
    if (data.length < 2) return undefined;
    const frameType = (data[0]! >> 4) & 0x07;
    if (data[0]! & 0x80) {
      const fourCc = data.length >= 5 ? String.fromCharCode(data[1]!, data[2]!, data[3]!, data[4]!) : '?';
      throw new UnsupportedVideoError(`enhanced-RTMP video (${fourCc}) is not remuxed in-process`);
    }
    const codec = data[0]! & 0x0f;
    if (codec !== FLV_VIDEO_CODEC_AVC) throw new UnsupportedVideoError(`FLV video codec ${codec} is not H.264 (7)`);
    if (frameType === FRAME_TYPE_COMMAND || data.length < 5) return undefined;
    const packetType = data[1]!;
    if (packetType === AVC_SEQUENCE_HEADER) {
      const record = data.subarray(5);
      if (this.videoConfig && sameBytes(this.videoConfig, record)) return undefined;
      let parameters: AvcParameters;
      try {
        parameters = parseAvcDecoderConfiguration(record);
      } catch (error) {
        if (error instanceof AvcFormatError) throw new UnsupportedVideoError(`unreadable AVC configuration: ${error.message}`);
        throw error;
      }
      // Kept as a copy: the record outlives its tag (it is compared with the next one).
      this.videoConfig = record.slice();
      return { type: 'video-config', config: { record: this.videoConfig, parameters } };
    }
    if (packetType !== AVC_NALU || !this.videoConfig || data.length === 5) return undefined;
    // SI24: the composition time may be negative.
    const compositionOffset = ((data[2]! << 16) | (data[3]! << 8) | data[4]!) << 8 >> 8;
    return {
      type: 'video',
      frame: {
        decodeTime: this.timeline.map('video', tag.timestamp),
        compositionOffset,
        keyframe: frameType === FRAME_TYPE_KEY,
        data: data.subarray(5),
      },
    };
  }

  private takeAudio(tag: FlvTag): MediaEvent | undefined {
    const data = tag.data;
    if (data.length < 1) return undefined;
    const format = data[0]! >> 4;
    if (format !== FLV_AUDIO_FORMAT_AAC) throw new UnsupportedAudioError(`${SOUND_FORMATS[format] ?? `FLV sound format ${format}`} audio is not AAC`);
    if (data.length < 2) return undefined;
    if (data[1] === AAC_SEQUENCE_HEADER) {
      const bytes = data.subarray(2);
      if (this.audioConfig && sameBytes(this.audioConfig, bytes)) return undefined;
      const config = parsePassableAacConfig(bytes.slice());
      this.audioConfig = config.bytes;
      return { type: 'audio-config', config };
    }
    if (!this.audioConfig || data.length === 2) return undefined;
    return { type: 'audio', frame: { time: this.timeline.map('audio', tag.timestamp), data: data.subarray(2) } };
  }
}

/** Whether two configurations (or any byte runs) are the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
