/**
 * The facts about an H.264 source that decide its ladder, read from the AVC decoder
 * configuration record (ISO/IEC 14496-15) and its first sequence parameter set (ITU-T H.264
 * 7.3.2.1.1): picture size after cropping, profile, chroma format and bit depth.
 */

export interface AvcParameters {
  width: number;
  height: number;
  profileIdc: number;
  levelIdc: number;
  /** 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4. */
  chromaFormatIdc: number;
  bitDepth: number;
}

export class AvcFormatError extends Error {}

// Profiles whose SPS carries chroma format, bit depth and scaling matrices (H.264 7.3.2.1.1).
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

export function parseAvcDecoderConfiguration(record: Uint8Array): AvcParameters {
  if (record.length < 8 || record[0] !== 1) throw new AvcFormatError('not an AVC decoder configuration record');
  const spsCount = record[5]! & 0x1f;
  if (spsCount === 0) throw new AvcFormatError('AVC configuration without a sequence parameter set');
  const spsLength = (record[6]! << 8) | record[7]!;
  if (record.length < 8 + spsLength) throw new AvcFormatError('truncated sequence parameter set');
  return parseSequenceParameterSet(record.subarray(8, 8 + spsLength));
}

/** `nal` is a whole SPS NAL unit, header byte included, emulation prevention still in. */
export function parseSequenceParameterSet(nal: Uint8Array): AvcParameters {
  if (nal.length < 4 || (nal[0]! & 0x1f) !== 7) throw new AvcFormatError('not a sequence parameter set');
  const bits = new BitReader(removeEmulationPrevention(nal.subarray(1)));
  const profileIdc = bits.bits(8);
  bits.bits(8); // constraint flags
  const levelIdc = bits.bits(8);
  bits.ue(); // seq_parameter_set_id
  let chromaFormatIdc = 1;
  let bitDepth = 8;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = bits.ue();
    if (chromaFormatIdc === 3) bits.bits(1); // separate_colour_plane_flag
    bitDepth = 8 + bits.ue();
    bits.ue(); // bit_depth_chroma_minus8
    bits.bits(1); // qpprime_y_zero_transform_bypass_flag
    if (bits.bits(1)) {
      const lists = chromaFormatIdc === 3 ? 12 : 8;
      for (let i = 0; i < lists; i++) if (bits.bits(1)) skipScalingList(bits, i < 6 ? 16 : 64);
    }
  }
  bits.ue(); // log2_max_frame_num_minus4
  const pocType = bits.ue();
  if (pocType === 0) {
    bits.ue();
  } else if (pocType === 1) {
    bits.bits(1);
    bits.se();
    bits.se();
    const cycle = bits.ue();
    for (let i = 0; i < cycle; i++) bits.se();
  }
  bits.ue(); // max_num_ref_frames
  bits.bits(1); // gaps_in_frame_num_value_allowed_flag
  const widthInMbs = bits.ue() + 1;
  const heightInMapUnits = bits.ue() + 1;
  const frameMbsOnly = bits.bits(1);
  if (!frameMbsOnly) bits.bits(1); // mb_adaptive_frame_field_flag
  bits.bits(1); // direct_8x8_inference_flag
  let crop = { left: 0, right: 0, top: 0, bottom: 0 };
  if (bits.bits(1)) crop = { left: bits.ue(), right: bits.ue(), top: bits.ue(), bottom: bits.ue() };

  const subWidth = chromaFormatIdc === 1 || chromaFormatIdc === 2 ? 2 : 1;
  const subHeight = chromaFormatIdc === 1 ? 2 : 1;
  const cropUnitX = chromaFormatIdc === 0 ? 1 : subWidth;
  const cropUnitY = (chromaFormatIdc === 0 ? 1 : subHeight) * (2 - frameMbsOnly);
  const width = widthInMbs * 16 - cropUnitX * (crop.left + crop.right);
  const height = (2 - frameMbsOnly) * heightInMapUnits * 16 - cropUnitY * (crop.top + crop.bottom);
  if (width <= 0 || height <= 0) throw new AvcFormatError(`sequence parameter set gives a ${width}x${height} picture`);
  return { width, height, profileIdc, levelIdc, chromaFormatIdc, bitDepth };
}

function skipScalingList(bits: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size && next !== 0; j++) {
    next = (last + bits.se() + 256) % 256;
    if (next !== 0) last = next;
  }
}

function removeEmulationPrevention(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  let length = 0;
  let zeros = 0;
  for (const byte of bytes) {
    if (zeros >= 2 && byte === 3) {
      zeros = 0;
      continue;
    }
    out[length++] = byte;
    zeros = byte === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, length);
}

class BitReader {
  private position = 0;
  private readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  bits(count: number): number {
    let value = 0;
    for (let i = 0; i < count; i++) {
      const byte = this.bytes[this.position >> 3];
      if (byte === undefined) throw new AvcFormatError('sequence parameter set ends early');
      value = value * 2 + ((byte >> (7 - (this.position & 7))) & 1);
      this.position++;
    }
    return value;
  }

  /** Exp-Golomb, unsigned. */
  ue(): number {
    let zeros = 0;
    while (this.bits(1) === 0) {
      if (++zeros > 31) throw new AvcFormatError('malformed Exp-Golomb code in the sequence parameter set');
    }
    return 2 ** zeros - 1 + this.bits(zeros);
  }

  /** Exp-Golomb, signed. */
  se(): number {
    const code = this.ue();
    return code % 2 === 1 ? (code + 1) / 2 : -(code / 2);
  }
}
