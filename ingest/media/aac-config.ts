/**
 * The AudioSpecificConfig (ISO/IEC 14496-3, 1.6.2.1) an FLV AAC sequence header carries, and
 * whether the sidecar can pass that audio through as it is: AAC-LC, 44.1 or 48 kHz, mono or
 * stereo. Anything else is refused with an UnsupportedAudioError, and the stream's audio is
 * encoded by ffmpeg instead.
 */

/** The source has something the in-process remuxer does not take; ffmpeg can. */
export class UnsupportedSourceError extends Error {
  override name = 'UnsupportedSourceError';
}

export class UnsupportedAudioError extends UnsupportedSourceError {
  override name = 'UnsupportedAudioError';
}

export interface AacConfig {
  /** MPEG-4 audio object type: 2 is AAC-LC. */
  objectType: number;
  sampleRate: number;
  channels: number;
  /** The AudioSpecificConfig itself, for the esds of the init segment. */
  bytes: Uint8Array;
}

const AOT_AAC_LC = 2;
const AOT_SBR = 5;
const AOT_PS = 29;
const SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
/** The rates every player's AAC decoder and the ladder's audio take as they are. */
const PASSABLE_RATES = new Set([44100, 48000]);
// Backward-compatible explicit SBR signalling after the GASpecificConfig (14496-3, 1.6.5).
const SYNC_EXTENSION_TYPE = 0x2b7;

/** Parses the config and checks it can be passed through; throws UnsupportedAudioError when not. */
export function parsePassableAacConfig(bytes: Uint8Array): AacConfig {
  if (bytes.length < 2) throw new UnsupportedAudioError(`AAC configuration of ${bytes.length} byte(s)`);
  const bits = new Bits(bytes);
  const objectType = readObjectType(bits);
  const sampleRate = readSampleRate(bits);
  const channelConfig = bits.read(4);
  if (objectType === AOT_SBR || objectType === AOT_PS) throw new UnsupportedAudioError(`HE-AAC${objectType === AOT_PS ? ' v2 (PS)' : ''} is signalled (object type ${objectType})`);
  if (objectType !== AOT_AAC_LC) throw new UnsupportedAudioError(`AAC object type ${objectType} is not AAC-LC (2)`);
  if (!PASSABLE_RATES.has(sampleRate)) throw new UnsupportedAudioError(`AAC at ${sampleRate} Hz (passed through: 44100 or 48000 only)`);
  if (channelConfig !== 1 && channelConfig !== 2) throw new UnsupportedAudioError(`AAC channel configuration ${channelConfig} (passed through: mono or stereo only)`);
  // GASpecificConfig: frameLengthFlag, dependsOnCoreCoder (then 14 bits), extensionFlag.
  if (bits.read(1) === 1) throw new UnsupportedAudioError('AAC with 960-sample frames');
  if (bits.read(1) === 1) bits.read(14);
  bits.read(1);
  if (bits.remaining >= 16 && bits.read(11) === SYNC_EXTENSION_TYPE) {
    const extensionType = bits.read(5);
    if (extensionType === AOT_SBR && bits.read(1) === 1) throw new UnsupportedAudioError('HE-AAC is signalled (SBR in a sync extension)');
  }
  return { objectType, sampleRate, channels: channelConfig, bytes };
}

function readObjectType(bits: Bits): number {
  const type = bits.read(5);
  return type === 31 ? 32 + bits.read(6) : type;
}

function readSampleRate(bits: Bits): number {
  const index = bits.read(4);
  if (index === 15) return bits.read(24);
  const rate = SAMPLE_RATES[index];
  if (rate === undefined) throw new UnsupportedAudioError(`AAC sampling frequency index ${index} is reserved`);
  return rate;
}

class Bits {
  private position = 0;
  private readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  get remaining(): number {
    return this.bytes.length * 8 - this.position;
  }

  read(count: number): number {
    if (count > this.remaining) throw new UnsupportedAudioError('AAC configuration ends early');
    let value = 0;
    for (let i = 0; i < count; i++) {
      const byte = this.bytes[this.position >> 3]!;
      value = value * 2 + ((byte >> (7 - (this.position & 7))) & 1);
      this.position++;
    }
    return value;
  }
}
