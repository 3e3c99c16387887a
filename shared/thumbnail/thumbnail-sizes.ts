/**
 * What the sidecar and the edge agree on about thumbnails: how often one is made, which fixed
 * widths are stored beside the full-size picture, and which stored picture answers a viewer's
 * `?width=`/`?height=` (the nearest that is not smaller; the browser scales it the rest of the way).
 * Pure.
 */

/** A live stream's thumbnail is at most this old (plus the time to make and store it). */
export const THUMBNAIL_INTERVAL_MS = 10_000;

/**
 * Stored beside the full-size picture when the source is wider: the front page's grid (320) and
 * a phone's player (640). The edge does not resize (a JPEG decode and encode in a Worker costs
 * tens of milliseconds of CPU per request): it picks one of these.
 */
export const THUMBNAIL_WIDTHS: readonly number[] = [320, 640];

export const THUMBNAIL_WIDTH_RANGE = { min: 16, max: 1920 } as const;
export const THUMBNAIL_HEIGHT_RANGE = { min: 16, max: 1080 } as const;

/** The fixed widths stored for a source this wide (only those narrower than the source itself). */
export function thumbnailWidthsFor(sourceWidth: number): number[] {
  return THUMBNAIL_WIDTHS.filter((width) => width < sourceWidth);
}

export interface ThumbnailRequest {
  width?: number;
  height?: number;
}

const WHOLE_NUMBER = /^\d{1,5}$/;

/** `?width=` and `?height=` (each at most once, whole numbers within bounds), or the reason they are not. */
export function parseThumbnailQuery(params: URLSearchParams): { ok: true; request: ThumbnailRequest } | { ok: false; reason: string } {
  const request: ThumbnailRequest = {};
  for (const [name, range] of [['width', THUMBNAIL_WIDTH_RANGE], ['height', THUMBNAIL_HEIGHT_RANGE]] as const) {
    const values = params.getAll(name);
    if (values.length === 0) continue;
    if (values.length > 1) return { ok: false, reason: `"${name}" may appear once` };
    const value = values[0]!;
    const parsed = WHOLE_NUMBER.test(value) ? Number(value) : Number.NaN;
    if (!(parsed >= range.min && parsed <= range.max)) return { ok: false, reason: `"${name}" must be a whole number from ${range.min} to ${range.max}` };
    request[name] = parsed;
  }
  return { ok: true, request };
}

/**
 * The stored width that answers a request for a picture of `full` size: the smallest fixed width
 * at least as wide as asked (and, for a height, at least as tall at the picture's aspect ratio);
 * undefined: the full-size picture (nothing smaller is big enough, or nothing was asked).
 */
export function chooseThumbnailWidth(request: ThumbnailRequest, full: { width: number; height: number }): number | undefined {
  if (request.width === undefined && request.height === undefined) return undefined;
  const forHeight = request.height === undefined ? 0 : Math.ceil((request.height * full.width) / full.height);
  const needed = Math.max(request.width ?? 0, forHeight);
  return thumbnailWidthsFor(full.width).find((width) => width >= needed);
}
