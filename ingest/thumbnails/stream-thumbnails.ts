/**
 * Thumbnails of live streams, sidecar-wide: each stream's keyframe tap asks the shared scheduler
 * whether one is due, a short-lived ffmpeg decodes that one keyframe into JPEGs (and WebPs, when
 * that ffmpeg has libwebp), and they are stored with the stream through its own ObjectStore (the
 * WebPs first, then the scaled JPEGs, the full-size JPEG last: the edge reads the full JPEG first,
 * so any picture it then picks is never older).
 * A failure is logged at most once a minute per stream and never touches the stream itself.
 */
import type { Logger } from 'pino';
import { IMAGE_JPEG_TYPE, IMAGE_WEBP_TYPE } from '../../shared/media-types.ts';
import { streamObjectKey } from '../../shared/storage/layout.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { withCaptureTime } from '../../shared/thumbnail/jpeg-facts.ts';
import { THUMBNAIL_INTERVAL_MS, thumbnailWidthsFor } from '../../shared/thumbnail/thumbnail-sizes.ts';
import { KeyframeTap } from './keyframe-tap.ts';
import { encodeThumbnail, ffmpegHasEncoder, type EncodeThumbnailOptions, type ThumbnailPictures } from './thumbnail-encoder.ts';
import { ThumbnailScheduler } from './thumbnail-scheduler.ts';

export interface ThumbnailsOptions {
  ffmpegPath: string;
  /** Thumbnail ffmpegs at once across the sidecar; other streams skip a keyframe. */
  maxConcurrent?: number;
  intervalMs?: number;
  /** An ffmpeg still running after this long is killed, milliseconds. */
  timeoutMs?: number;
  now?: () => number;
  /** Also WebP pictures; default: when this ffmpeg has libwebp (asked once). */
  webp?: boolean;
  /** Makes the pictures (tests and the bench count or replace it); default: ffmpeg. */
  encode?: (options: EncodeThumbnailOptions) => Promise<ThumbnailPictures>;
}

export interface StreamThumbnailer {
  /** The stream's FLV, as the pipeline receives it. */
  write(flv: Uint8Array): void;
  /** The stream ended: no more thumbnails (the last one stays stored). */
  end(): void;
}

const DEFAULT_MAX_CONCURRENT = 2;
const DEFAULT_TIMEOUT_MS = 5_000;
// A stream turned away because every slot was busy asks again at a keyframe at least this much later.
const RETRY_MS = 1_000;
const LOG_EVERY_MS = 60_000;

export class Thumbnails {
  readonly scheduler: ThumbnailScheduler;
  private readonly options: ThumbnailsOptions;
  private readonly now: () => number;
  private webp: Promise<boolean> | undefined;

  constructor(options: ThumbnailsOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.scheduler = new ThumbnailScheduler({
      intervalMs: options.intervalMs ?? THUMBNAIL_INTERVAL_MS,
      maxConcurrent: options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT,
      retryMs: RETRY_MS,
      now: this.now,
    });
  }

  /** Whether to make WebPs: as configured, else whether ffmpeg can (asked once, at the first thumbnail). */
  private makesWebp(): Promise<boolean> {
    this.webp ??= this.options.webp !== undefined ? Promise.resolve(this.options.webp) : ffmpegHasEncoder(this.options.ffmpegPath, 'libwebp');
    return this.webp;
  }

  forStream(options: { playbackId: string; store: ObjectStore; log: Logger }): StreamThumbnailer {
    const { playbackId, store, log } = options;
    const scheduler = this.scheduler;
    const encode = this.options.encode ?? encodeThumbnail;
    let storing = false;
    let ended = false;
    let lastLoggedAt = Number.NEGATIVE_INFINITY;
    let unlogged = 0;
    const problem = (message: string) => {
      const now = this.now();
      if (now - lastLoggedAt < LOG_EVERY_MS) {
        unlogged += 1;
        return;
      }
      log.warn(`thumbnail: ${message}${unlogged > 0 ? ` (and ${unlogged} other problem(s) in the last minute)` : ''}`);
      lastLoggedAt = now;
      unlogged = 0;
    };
    const make = async (keyframe: Uint8Array, width: number, capturedAt: number) => {
      let pictures: ThumbnailPictures;
      try {
        const webp = await this.makesWebp();
        pictures = await encode({ ffmpegPath: this.options.ffmpegPath, keyframe, widths: thumbnailWidthsFor(width), webp, timeoutMs: this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS });
      } finally {
        scheduler.end(playbackId);
      }
      if (pictures.webp) {
        for (const [scaledWidth, webp] of pictures.webp.scaled) {
          await store.put(streamObjectKey(playbackId, { kind: 'thumbnail', width: scaledWidth, format: 'webp' }), webp, { contentType: IMAGE_WEBP_TYPE });
        }
        await store.put(streamObjectKey(playbackId, { kind: 'thumbnail', format: 'webp' }), pictures.webp.full, { contentType: IMAGE_WEBP_TYPE });
      }
      for (const [scaledWidth, jpeg] of pictures.scaled) {
        await store.put(streamObjectKey(playbackId, { kind: 'thumbnail', width: scaledWidth }), withCaptureTime(jpeg, capturedAt), { contentType: IMAGE_JPEG_TYPE });
      }
      await store.put(streamObjectKey(playbackId, { kind: 'thumbnail' }), withCaptureTime(pictures.full, capturedAt), { contentType: IMAGE_JPEG_TYPE });
    };
    const tap = new KeyframeTap({
      wanted: () => !ended && !storing && scheduler.isDue(playbackId),
      onKeyframe: (keyframe, picture) => {
        if (!scheduler.begin(playbackId)) return;
        storing = true;
        void make(keyframe, picture.width, this.now())
          .catch((error: unknown) => problem((error as Error).message))
          .finally(() => {
            storing = false;
          });
      },
      onProblem: problem,
    });
    return {
      write: (flv) => {
        if (!ended) tap.write(flv);
      },
      end: () => {
        ended = true;
        scheduler.forget(playbackId);
      },
    };
  }
}
