/**
 * A wall clock burnt into video frames as big black and white boxes, and read back from a
 * rendered frame: how glass-to-glass latency is measured the same way for any server.
 *
 * The value is milliseconds since a bench epoch (24 bits: 4.6 hours), followed by an 8-bit
 * checksum, one bit per box, in rows of boxes across the top of the picture. Boxes are sized as
 * fractions of the frame, so the pattern survives scaling to any rendition; a box is read as the
 * mean brightness of its inner half and thresholded at mid-grey, so compression blur at its edges
 * does not matter; a box that is neither clearly dark nor clearly bright, or a checksum that does
 * not match, rejects the frame rather than misreading it.
 */

export const VALUE_BITS = 24;
export const CHECKSUM_BITS = 8;
const VALUE_MODULUS = 2 ** VALUE_BITS;

export interface ClockLayout {
  columns: number;
  rows: number;
  /** Height of one row of boxes as a fraction of the frame height (from the top edge). */
  rowHeight: number;
}

/** 32 boxes in two rows of 16: at 360p each box is 40x30 pixels. */
export const CLOCK_LAYOUT: ClockLayout = { columns: 16, rows: 2, rowHeight: 1 / 12 };

/** Brightness (0-255) below which a box is a 0 and above which a 1; between them it is unreadable. */
const DARK_BELOW = 96;
const BRIGHT_ABOVE = 160;

/**
 * The checksum of a 24-bit value: a weighted sum of its three bytes, so that a flipped bit or
 * two swapped bytes change it. Written with operations ffmpeg's expression language also has.
 */
export function clockChecksum(value: number): number {
  const low = value % 256;
  const middle = Math.floor(value / 256) % 256;
  const high = Math.floor(value / 65536) % 256;
  return (3 * low + 5 * middle + 7 * high + 90) % 256;
}

/** The boxes' bits for a value, value bits first (most significant first), then the checksum's. */
export function clockBits(value: number): boolean[] {
  const wrapped = ((Math.floor(value) % VALUE_MODULUS) + VALUE_MODULUS) % VALUE_MODULUS;
  const bits: boolean[] = [];
  for (let bit = VALUE_BITS - 1; bit >= 0; bit--) bits.push(Math.floor(wrapped / 2 ** bit) % 2 === 1);
  const checksum = clockChecksum(wrapped);
  for (let bit = CHECKSUM_BITS - 1; bit >= 0; bit--) bits.push(Math.floor(checksum / 2 ** bit) % 2 === 1);
  return bits;
}

/** The value read from the boxes' brightness (row by row), or null when the frame cannot be trusted. */
export function decodeClockCells(brightness: readonly number[]): number | null {
  if (brightness.length !== VALUE_BITS + CHECKSUM_BITS) return null;
  const bits: number[] = [];
  for (const level of brightness) {
    if (level < DARK_BELOW) bits.push(0);
    else if (level > BRIGHT_ABOVE) bits.push(1);
    else return null;
  }
  const number = (from: number, to: number) => bits.slice(from, to).reduce((sum, bit) => sum * 2 + bit, 0);
  const value = number(0, VALUE_BITS);
  return number(VALUE_BITS, VALUE_BITS + CHECKSUM_BITS) === clockChecksum(value) ? value : null;
}

/**
 * The clock's milliseconds on the bench's timeline: the 24-bit value wraps every 4.6 hours, so
 * it is placed in the wrap nearest to `near` (a time known to be close, e.g. when it was read).
 */
export function unwrapClockValue(value: number, epochMs: number, nearMs: number): number {
  const wraps = Math.round((nearMs - epochMs - value) / VALUE_MODULUS);
  return epochMs + value + wraps * VALUE_MODULUS;
}

/** A box's rectangle in pixels of a frame of the given size (the whole box, edges included). */
export function clockCellRect(layout: ClockLayout, index: number, width: number, height: number): { x: number; y: number; w: number; h: number } {
  const column = index % layout.columns;
  const row = Math.floor(index / layout.columns);
  const x = Math.round((column * width) / layout.columns);
  const y = Math.round(row * layout.rowHeight * height);
  return { x, y, w: Math.round(((column + 1) * width) / layout.columns) - x, h: Math.round((row + 1) * layout.rowHeight * height) - y };
}

/**
 * Mean brightness of the inner half of every box, from RGBA pixels of the top of a frame (as a
 * canvas's getImageData gives them, `height` being the frame's full height scaled like `width`).
 *
 * Self-contained on purpose: the benchmark page runs it in the browser from its source text.
 */
export function clockCellBrightness(rgba: ArrayLike<number>, width: number, height: number, layout: ClockLayout): number[] {
  const result: number[] = [];
  for (let index = 0; index < layout.columns * layout.rows; index++) {
    const column = index % layout.columns;
    const row = Math.floor(index / layout.columns);
    const cellWidth = width / layout.columns;
    const cellHeight = layout.rowHeight * height;
    const x0 = Math.floor(column * cellWidth + cellWidth / 4);
    const x1 = Math.ceil(column * cellWidth + (cellWidth * 3) / 4);
    const y0 = Math.floor(row * cellHeight + cellHeight / 4);
    const y1 = Math.ceil(row * cellHeight + (cellHeight * 3) / 4);
    let sum = 0;
    let count = 0;
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const offset = (y * width + x) * 4;
        sum += 0.299 * rgba[offset]! + 0.587 * rgba[offset + 1]! + 0.114 * rgba[offset + 2]!;
        count += 1;
      }
    }
    result.push(count > 0 ? sum / count : 0);
  }
  return result;
}

export interface ClockFilterOptions {
  layout: ClockLayout;
  /** Milliseconds since the Unix epoch that the burnt-in value counts from. */
  epochMs: number;
  /** ffmpeg expression for the frame's capture time in microseconds since the Unix epoch: `RTCTIME` live. */
  captureTimeMicros: string;
  frameRate: number;
}

/**
 * An ffmpeg video filter chain that burns the capture time into each frame: the frame's
 * timestamps are set to the wall clock (microseconds) while the boxes are drawn, then back to
 * frame count / frame rate, so the encoder sees a steady 30 fps. Box sizes are relative to the
 * frame (`iw`, `ih`), matching `clockCellRect`.
 */
export function clockFilter(options: ClockFilterOptions): string {
  const { layout } = options;
  const cells = layout.columns * layout.rows;
  // ms since the bench epoch, wrapped to 24 bits; `t` is seconds of the wall-clock timestamp.
  const value = `mod(floor(t*1000)-${Math.floor(options.epochMs)},${VALUE_MODULUS})`;
  const byte = (shift: number) => `mod(floor(${value}/${2 ** shift}),256)`;
  const checksum = `mod(3*${byte(0)}+5*${byte(8)}+7*${byte(16)}+90,256)`;
  const filters = ['settb=1/1000000', `setpts=${options.captureTimeMicros}`];
  const box = (index: number) => {
    const column = index % layout.columns;
    const row = Math.floor(index / layout.columns);
    return `x=iw*${column}/${layout.columns}:y=ih*${row}*${layout.rowHeight}:w=iw/${layout.columns}+1:h=ih*${layout.rowHeight}+1`;
  };
  // Every box black first, then the ones whose bit is 1 white.
  filters.push(`drawbox=x=0:y=0:w=iw:h=ih*${layout.rows * layout.rowHeight}+1:color=black:t=fill`);
  for (let index = 0; index < cells; index++) {
    const isValueBit = index < VALUE_BITS;
    const shift = isValueBit ? VALUE_BITS - 1 - index : VALUE_BITS + CHECKSUM_BITS - 1 - index;
    const source = isValueBit ? value : checksum;
    // Quoted: the filter graph parser would split the expression's commas into filters.
    filters.push(`drawbox=${box(index)}:color=white:t=fill:enable='mod(floor(${source}/${2 ** shift}),2)'`);
  }
  filters.push(`setpts=N/(${options.frameRate}*TB)`);
  return filters.join(',');
}
