/**
 * One H.264 keyframe as a decoder reads it from a pipe: Annex-B (start codes), its SPS and PPS
 * first, from the AVC decoder configuration record (ISO/IEC 14496-15 5.3.3.1) and the
 * length-prefixed NAL units of its access unit. Pure.
 */
import { AvcFormatError } from '../media/avc-parameters.ts';

const START_CODE = [0, 0, 0, 1];

/** The parameter sets (SPS, then PPS) and the NAL length size of an AVC decoder configuration record. */
export function readParameterSets(record: Uint8Array): { nalLengthSize: number; parameterSets: Uint8Array[] } {
  if (record.length < 7 || record[0] !== 1) throw new AvcFormatError('not an AVC decoder configuration record');
  const nalLengthSize = (record[4]! & 0x03) + 1;
  const parameterSets: Uint8Array[] = [];
  let offset = 5;
  for (const countMask of [0x1f, 0xff]) {
    if (offset >= record.length) throw new AvcFormatError('truncated AVC decoder configuration record');
    const count = record[offset]! & countMask;
    offset += 1;
    for (let i = 0; i < count; i++) {
      if (offset + 2 > record.length) throw new AvcFormatError('truncated parameter set length');
      const length = (record[offset]! << 8) | record[offset + 1]!;
      offset += 2;
      if (offset + length > record.length) throw new AvcFormatError('truncated parameter set');
      parameterSets.push(record.subarray(offset, offset + length));
      offset += length;
    }
  }
  return { nalLengthSize, parameterSets };
}

/** The keyframe's access unit (length-prefixed NAL units) with the record's parameter sets, as Annex-B. */
export function keyframeAnnexB(record: Uint8Array, accessUnit: Uint8Array): Uint8Array {
  const { nalLengthSize, parameterSets } = readParameterSets(record);
  const units = [...parameterSets];
  let offset = 0;
  while (offset < accessUnit.length) {
    if (offset + nalLengthSize > accessUnit.length) throw new AvcFormatError('truncated NAL unit length');
    let length = 0;
    for (let i = 0; i < nalLengthSize; i++) length = length * 256 + accessUnit[offset + i]!;
    offset += nalLengthSize;
    if (length === 0) continue;
    if (offset + length > accessUnit.length) throw new AvcFormatError('NAL unit longer than its access unit');
    units.push(accessUnit.subarray(offset, offset + length));
    offset += length;
  }
  const out = new Uint8Array(units.reduce((sum, unit) => sum + START_CODE.length + unit.length, 0));
  let at = 0;
  for (const unit of units) {
    out.set(START_CODE, at);
    out.set(unit, at + START_CODE.length);
    at += START_CODE.length + unit.length;
  }
  return out;
}
