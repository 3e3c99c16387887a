/**
 * Parts and hints exact, as a spec-following low-latency client sees them (issue 22): on a live
 * stream with a rung (two video renditions whose parts share file names, and the audio) from the
 * self-hosted Node edge (its live state in process, nothing in front of it) and from the edge in
 * the Workers runtime (`wrangler dev`: the stream's Durable Object, and the location's cache that
 * keeps parts for three target durations), a client per rendition follows it for 30 s by
 * blocking reloads for the next part, asks for every preload-hinted part the moment it is hinted,
 * fetches every listed part, and fetches each part again at once and five seconds after it left
 * the playlist (§6.2.2: three target durations, 6 s here). Every held hint must be answered with
 * exactly the bytes later listed under its name in that rendition (or a 404 for a part that never
 * comes), every part that left must still be served with the same bytes, every whole segment must
 * be its listed parts end to end, and no playlist version may go back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followLowLatency, llClientProblems, type LlClientRecord } from '../helpers/ll-client.ts';
import { eventually } from '../helpers/network.ts';
import { startTestPlatform, type Platform } from '../helpers/platform.ts';
import { publishTestPattern, type TestPublisher } from '../helpers/publisher.ts';

const STREAM = 'llclient';
const RENDITIONS = ['source', '180p', 'audio'];
const FOLLOW_SECONDS = 30;
/** After a part left the playlist: within three target durations (6 s), less a reload's slack. */
const REFETCH_AFTER_MS = 5_000;

const EDGES = ['node', 'wrangler'] as const;
type Edge = (typeof EDGES)[number];

// Both edges at once, each with its own sidecar and publisher: the file mostly waits on held
// requests, and takes half the time it would one edge after the other.
describe('a low-latency client following every rendition', () => {
  const platforms = new Map<Edge, Platform>();
  const publishers: TestPublisher[] = [];
  const lines = new Map<Edge, string[]>(EDGES.map((edge) => [edge, []]));

  async function startOne(edge: Edge): Promise<void> {
    const platform = await startTestPlatform(`e2e-ll-client-${edge}`, {
      edge,
      lines: lines.get(edge)!,
      edgeLogLevel: 'warn',
      ingest: { reconnectWindow: 0, args: ['--ladder', '180:200k', '--x264-preset', 'ultrafast'], env: { LOG_LEVEL: 'warn' } },
    });
    platforms.set(edge, platform);
    publishers.push(publishTestPattern(platform.publishUrl(STREAM), FOLLOW_SECONDS + 60, '640x360'));
    await eventually(`every rendition listing parts (${edge} edge)`, 60_000, async () => {
      const listing = await Promise.all(
        RENDITIONS.map((rendition) => fetch(`${platform.edgeUrl}/live/${STREAM}/${rendition}/index.m3u8`).then((response) => (response.ok ? response.text() : ''))),
      );
      return listing.every((text) => text.includes('#EXT-X-PART:')) ? true : undefined;
    });
  }

  beforeAll(async () => {
    await Promise.all(EDGES.map(startOne));
  });

  afterAll(async () => {
    await Promise.all(publishers.map((publisher) => publisher.stop()));
    await Promise.all([...platforms.values()].map((platform) => platform.stop()));
  });

  it.concurrent.for(EDGES)('finds every hinted, listed and departed part and every segment where the playlists say, in every rendition: %s edge', async (edge, { expect }) => {
    const platform = platforms.get(edge)!;
    const clients = RENDITIONS.map((rendition) => followLowLatency(`${platform.edgeUrl}/live/${STREAM}/${rendition}/index.m3u8`, rendition, REFETCH_AFTER_MS));
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_SECONDS * 1000));
    const records: LlClientRecord[] = [];
    for (const client of clients) records.push(await client.stop());
    const summary = records.map((record) => ({
      rendition: record.rendition,
      reloads: record.versions.length,
      hinted: record.hinted.size,
      hintedNotFound: [...record.hinted.values()].filter((fetched) => fetched.status === 404).length,
      listed: record.listed.size,
      refetchedLater: record.leftLater.size,
      segments: record.segments.size,
    }));
    lines.get(edge)!.push(`[ll-client] ${JSON.stringify(summary)}`);
    expect(records.flatMap(llClientProblems)).toEqual([]);
    for (const counts of summary) {
      // It followed the stream live: about three parts a second, each hinted before it was listed.
      expect(counts.reloads, counts.rendition).toBeGreaterThan(FOLLOW_SECONDS * 2);
      expect(counts.hinted, counts.rendition).toBeGreaterThan(FOLLOW_SECONDS * 2);
      expect(counts.listed, counts.rendition).toBeGreaterThan(FOLLOW_SECONDS * 2);
      expect(counts.refetchedLater, counts.rendition).toBeGreaterThan(FOLLOW_SECONDS);
      expect(counts.segments, counts.rendition).toBeGreaterThanOrEqual(FOLLOW_SECONDS / 2 - 2);
    }
  });
});
