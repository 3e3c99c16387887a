/** Measured bitrate and frame rate of one rendition, over the segments published so far. */

export class RenditionStats {
  peakBitsPerSecond = 0;
  private totalBytes = 0;
  private totalSeconds = 0;
  private totalSamples = 0;

  add(bytes: number, seconds: number, samples: number): void {
    if (seconds <= 0) return;
    this.peakBitsPerSecond = Math.max(this.peakBitsPerSecond, (bytes * 8) / seconds);
    this.totalBytes += bytes;
    this.totalSeconds += seconds;
    this.totalSamples += samples;
  }

  get averageBitsPerSecond(): number {
    return this.totalSeconds > 0 ? (this.totalBytes * 8) / this.totalSeconds : 0;
  }

  /** Samples per second: the frame rate of a video rendition. */
  get framesPerSecond(): number | undefined {
    return this.totalSeconds > 0 ? Math.round((this.totalSamples / this.totalSeconds) * 1000) / 1000 : undefined;
  }
}
