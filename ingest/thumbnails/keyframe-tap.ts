/**
 * Taps a stream's FLV for the keyframes thumbnails are made of: keeps the newest AVC
 * configuration and, when asked for one (`wanted`), hands over the next keyframe as Annex-B with
 * its SPS/PPS. Everything else passes by with a glance at the tag header; nothing is copied
 * until a keyframe is taken.
 */
import { parseAvcDecoderConfiguration, type AvcParameters } from '../media/avc-parameters.ts';
import { sameBytes } from '../media/flv-frames.ts';
import { FLV_TAG_VIDEO, FLV_VIDEO_CODEC_AVC, FlvTagReader } from '../media/flv-tag-reader.ts';
import { keyframeAnnexB } from './annex-b.ts';

export interface KeyframeTapOptions {
  /** Asked at each keyframe: whether to take it. */
  wanted(): boolean;
  onKeyframe(annexB: Uint8Array, picture: AvcParameters): void;
  /** Why a keyframe could not be taken (the source is not H.264, a malformed tag): for a throttled log. */
  onProblem(message: string): void;
}

const AVC_SEQUENCE_HEADER = 0;
const AVC_NALU = 1;
const FRAME_TYPE_KEY = 1;

export class KeyframeTap {
  private readonly options: KeyframeTapOptions;
  private reader = new FlvTagReader();
  private config: { record: Uint8Array; picture: AvcParameters } | undefined;
  /** The source's video is not H.264: said once, then its tags pass by until a new FLV stream begins. */
  private notAvc = false;

  constructor(options: KeyframeTapOptions) {
    this.options = options;
  }

  write(flv: Uint8Array): void {
    // A new FLV stream (a publisher reconnects, or a resubscribe replays header and GOP): read afresh.
    if (flv.length >= 3 && flv[0] === 0x46 && flv[1] === 0x4c && flv[2] === 0x56) {
      this.reader = new FlvTagReader();
      this.notAvc = false;
    }
    let tags;
    try {
      tags = this.reader.push(flv);
    } catch (error) {
      this.reader = new FlvTagReader();
      this.options.onProblem(`unreadable FLV: ${(error as Error).message}`);
      return;
    }
    for (const tag of tags) if (tag.type === FLV_TAG_VIDEO) this.video(tag.data);
  }

  private video(data: Uint8Array): void {
    if (data.length < 6 || this.notAvc) return;
    const codec = data[0]! & 0x0f;
    if (data[0]! & 0x80 || codec !== FLV_VIDEO_CODEC_AVC) {
      this.notAvc = true;
      this.options.onProblem('the source video is not H.264: no thumbnails for it');
      return;
    }
    if (data[1] === AVC_SEQUENCE_HEADER) {
      const record = data.subarray(5);
      if (this.config && sameBytes(this.config.record, record)) return;
      try {
        this.config = { record: record.slice(), picture: parseAvcDecoderConfiguration(record) };
      } catch (error) {
        this.config = undefined;
        this.options.onProblem(`unreadable AVC configuration: ${(error as Error).message}`);
      }
      return;
    }
    if (data[1] !== AVC_NALU || ((data[0]! >> 4) & 0x07) !== FRAME_TYPE_KEY || !this.config || !this.options.wanted()) return;
    let annexB: Uint8Array;
    try {
      annexB = keyframeAnnexB(this.config.record, data.subarray(5));
    } catch (error) {
      this.options.onProblem(`unreadable keyframe: ${(error as Error).message}`);
      return;
    }
    this.options.onKeyframe(annexB, this.config.picture);
  }
}
