/**
 * Watches the first moments of a publisher's FLV to learn what the ladder depends on: the video
 * codec and picture size, whether there is audio, and how far apart the keyframes are. The bytes
 * are kept so that the encoder, started once the facts are known, still gets all of them.
 */
import type { SourceFacts } from '../transcode/ladder.ts';
import { parseAvcDecoderConfiguration, type AvcParameters } from './avc-parameters.ts';
import { avcDecoderConfiguration, FLV_TAG_AUDIO, FLV_TAG_VIDEO, FLV_VIDEO_CODEC_AVC, FlvTagReader, readVideoInfo } from './flv-tag-reader.ts';

export interface SourceProbeOptions {
  /** Media seconds after which the probe decides with what it has (no second keyframe by then). */
  maxMediaSeconds: number;
  /** Bytes after which it decides anyway. */
  maxBytes: number;
}

// How far ahead of the wall clock a publisher may send media (its own output buffering).
const PUBLISHER_BUFFER_MS = 1000;

// Baseline (and constrained baseline), Main and High: what every player's H.264 decoder takes.
const PLAYABLE_PROFILES = new Set([66, 77, 100]);

export class SourceProbe {
  private readonly options: SourceProbeOptions;
  private readonly reader = new FlvTagReader();
  private readonly chunks: Buffer[] = [];
  private bytes = 0;
  private avc: AvcParameters | undefined;
  private videoCodec: number | string | undefined;
  private keyframes: number[] = [];
  private audio = false;
  private firstTimestamp: number | undefined;
  private lastTimestamp = 0;
  private zeroAt: number | undefined;
  private firstArrivalAt: number | undefined;
  /** Why the stream cannot be read, when it cannot. */
  problem: string | undefined;

  constructor(options: SourceProbeOptions) {
    this.options = options;
  }

  /** Everything pushed so far, to be replayed to the encoder. */
  get buffered(): readonly Buffer[] {
    return this.chunks;
  }

  /**
   * The wall clock (epoch ms) at which the first media probed was captured, as far as its
   * arrival shows: the earliest of each tag's arrival less its time since the first tag. A
   * publisher sending in real time gives the first tag's arrival; a replayed burst (a cached
   * GOP on resubscribe) arrives early for its timestamps and does not count. A tag further
   * ahead in media time than the wall time since the first byte (plus a second of publisher
   * buffering) is not dated by: a stale tag of a previous publisher, replayed with its old
   * timestamp at a reconnect, would otherwise date the stream seconds early.
   */
  get mediaZeroAt(): number | undefined {
    return this.zeroAt;
  }

  /** Whether any audio or video frame has arrived (configurations and metadata aside). */
  get sawMedia(): boolean {
    return this.firstTimestamp !== undefined;
  }

  /** Takes more FLV, received at `receivedAt` (epoch ms); returns the facts once they are settled. */
  push(flv: Buffer, receivedAt = Date.now()): SourceFacts | undefined {
    this.chunks.push(flv);
    this.bytes += flv.length;
    this.firstArrivalAt ??= receivedAt;
    if (!this.problem) {
      try {
        for (const tag of this.reader.push(flv)) {
          this.take(tag.type, tag.timestamp, tag.data);
          if (this.firstTimestamp !== undefined && (tag.type === FLV_TAG_AUDIO || tag.type === FLV_TAG_VIDEO)) {
            const mediaSinceFirst = tag.timestamp - this.firstTimestamp;
            if (mediaSinceFirst <= receivedAt - this.firstArrivalAt + PUBLISHER_BUFFER_MS) {
              const zero = receivedAt - mediaSinceFirst;
              this.zeroAt = this.zeroAt === undefined ? zero : Math.min(this.zeroAt, zero);
            }
          }
        }
      } catch (error) {
        this.problem = (error as Error).message;
      }
    }
    const settled =
      this.problem !== undefined ||
      this.keyframes.length >= 2 ||
      this.bytes >= this.options.maxBytes ||
      (this.firstTimestamp !== undefined && (this.lastTimestamp - this.firstTimestamp) / 1000 > this.options.maxMediaSeconds);
    return settled ? this.facts() : undefined;
  }

  /** The facts as far as they are known now (the caller stops waiting). */
  facts(): SourceFacts {
    const video = this.videoCodec === undefined
      ? undefined
      : {
          playableH264:
            this.videoCodec === FLV_VIDEO_CODEC_AVC &&
            this.avc !== undefined &&
            PLAYABLE_PROFILES.has(this.avc.profileIdc) &&
            this.avc.chromaFormatIdc === 1 &&
            this.avc.bitDepth === 8,
          width: this.avc?.width ?? 0,
          height: this.avc?.height ?? 0,
          keyframeInterval: this.keyframes.length >= 2 ? (this.keyframes[1]! - this.keyframes[0]!) / 1000 : undefined,
          probedSeconds: this.firstTimestamp === undefined ? 0 : (this.lastTimestamp - this.firstTimestamp) / 1000,
        };
    return { video, audio: this.audio };
  }

  private take(type: number, timestamp: number, data: Uint8Array): void {
    if (type !== FLV_TAG_AUDIO && type !== FLV_TAG_VIDEO) return;
    if (type === FLV_TAG_AUDIO) {
      this.audio = true;
    } else {
      const info = readVideoInfo(data);
      if (!info) return;
      this.videoCodec ??= info.codec;
      if (info.sequenceHeader) {
        if (info.codec === FLV_VIDEO_CODEC_AVC) this.avc = parseAvcDecoderConfiguration(avcDecoderConfiguration(data));
        return;
      }
      if (info.keyframe) this.keyframes.push(timestamp);
    }
    this.firstTimestamp ??= timestamp;
    this.lastTimestamp = Math.max(this.lastTimestamp, timestamp);
  }
}
