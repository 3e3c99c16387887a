/** Polls a live media playlist every ~50 ms into a segment timeline, until stopped. */
import { fetchText } from './bench-context.ts';
import { SegmentTimeline } from './segment-timeline.ts';

export interface PlaylistPoller {
  timeline: SegmentTimeline;
  /** Polls that failed (other than a playlist not there yet). */
  failures: number;
  stop(): Promise<void>;
}

export function pollPlaylist(url: string, everyMs = 50): PlaylistPoller {
  const timeline = new SegmentTimeline();
  let running = true;
  const poller: PlaylistPoller = { timeline, failures: 0, stop: async () => ((running = false), await loop) };
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      try {
        const text = await fetchText(url, 2000);
        // Stamped when the answer arrived: when a viewer polling now would know of the segment.
        if (text !== undefined) timeline.observe(text, Date.now());
      } catch {
        poller.failures += 1;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, everyMs - (Date.now() - started))));
    }
  })();
  return poller;
}
