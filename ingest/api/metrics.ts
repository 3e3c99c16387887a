/** The sidecar's Prometheus metrics, through prom-client (one registry per sidecar). */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { OutputMetrics } from '../publish/output-metrics.ts';

/**
 * How often the event loop's delay is sampled (prom-client's `eventLoopMonitoringPrecision`).
 * Its default, 10 ms, is a timer waking the sidecar 100 times a second whether or not anything
 * streams: ~0.35 % of a core, most of an idle sidecar's CPU (BENCHMARKS.md, 2026-12-06 18:00).
 * A delay is still measured to the millisecond, from 10 samples a second: enough to see an
 * overloaded loop.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

export class IngestMetrics {
  readonly registry = new Registry();

  constructor() {
    // The process's own: resident memory, V8 heap, memory held outside it (Buffers), event loop
    // lag, GC: what an operator watches for a leak or an overloaded sidecar.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  }
  readonly streamsLive = new Gauge({ name: 'ingest_streams_live', help: 'Streams with a publisher right now', registers: [this.registry] });
  readonly bytesIn = new Counter({ name: 'ingest_bytes_in_total', help: 'Media bytes received from publishers (FLV)', registers: [this.registry] });
  readonly publishesRefused = new Counter({
    name: 'ingest_publishes_refused_total',
    help: 'Publish attempts refused, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly rtmpConnectionsRefused = new Counter({
    name: 'ingest_rtmp_connections_refused_total',
    help: 'RTMP(S) connections refused before or instead of a publish (limits, timeouts, malformed input), by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  /** What the RTMP gate reports; set by whoever owns the RTMP server. */
  private rtmpGate: () => { connections: number; parserMemory: number } | undefined = () => undefined;
  readonly rtmpConnections = new Gauge({
    name: 'ingest_rtmp_connections',
    help: 'Open RTMP(S) connections, publishing or not',
    registers: [this.registry],
    collect: () => this.collectRtmpGate(),
  });
  readonly rtmpParserBytes = new Gauge({
    name: 'ingest_rtmp_parser_buffer_bytes',
    help: "node-media-server's RTMP message buffers of all connections (what the gate lets it allocate)",
    registers: [this.registry],
    collect: () => this.collectRtmpGate(),
  });
  readonly segmentsStored = new Counter({
    name: 'ingest_segments_stored_total',
    help: 'Media segments stored, by rendition kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly segmentsDropped = new Counter({
    name: 'ingest_segments_dropped_total',
    help: 'Media segments dropped because storage did not keep up (an outage longer than the upload buffer) or refused them',
    registers: [this.registry],
  });
  readonly segmentsAssembled = new Counter({
    name: 'ingest_segments_assembled_total',
    help: 'Segments offered to the edge to store from their parts (live channel): stored there (result="stored"), or not and uploaded over HTTP instead (result="uploaded")',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly partsAnnounced = new Counter({
    name: 'ingest_parts_announced_total',
    help: 'Low-latency HLS parts the edge accepted',
    registers: [this.registry],
  });
  readonly partsFailed = new Counter({
    name: 'ingest_parts_failed_total',
    help: 'Low-latency HLS parts not announced (the edge refused, failed or was too slow); segments are unaffected',
    registers: [this.registry],
  });
  readonly objectsDeleted = new Counter({
    name: 'ingest_objects_deleted_total',
    help: 'Media objects deleted from storage after leaving the live window (retention "window")',
    registers: [this.registry],
  });
  readonly uploadSeconds = new Histogram({
    name: 'ingest_upload_duration_seconds',
    help: 'Time to store one object, retries included, by object kind',
    labelNames: ['object'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly ffmpegFailures = new Counter({
    name: 'ingest_ffmpeg_failures_total',
    help: 'ffmpeg processes that stopped on their own while a stream was live',
    registers: [this.registry],
  });
  readonly ffmpegRestarts = new Counter({
    name: 'ingest_ffmpeg_restarts_total',
    help: 'ffmpeg processes restarted for a live stream',
    registers: [this.registry],
  });
  observeRtmpGate(read: () => { connections: number; parserMemory: number } | undefined): void {
    this.rtmpGate = read;
  }

  private collectRtmpGate(): void {
    const stats = this.rtmpGate();
    if (!stats) return;
    this.rtmpConnections.set(stats.connections);
    this.rtmpParserBytes.set(stats.parserMemory);
  }

  readonly encodeSpeed = new Gauge({
    name: 'ingest_encode_speed_ratio',
    help: 'Media seconds packaged per wall-clock second over the last 10 s, per stream (1 = real time)',
    labelNames: ['stream'] as const,
    registers: [this.registry],
  });

  /** These metrics as a stream's output counts into them (publish/ knows only OutputMetrics). */
  forStreamOutput(): OutputMetrics {
    return {
      timeUpload: (object) => {
        const end = this.uploadSeconds.startTimer({ object });
        return () => void end();
      },
      segmentDropped: () => this.segmentsDropped.inc(),
      segmentAssembled: (stored) => this.segmentsAssembled.inc({ result: stored ? 'stored' : 'uploaded' }),
      segmentStored: (kind) => this.segmentsStored.inc({ kind }),
      partAnnounced: () => this.partsAnnounced.inc(),
      partFailed: () => this.partsFailed.inc(),
      objectDeleted: () => this.objectsDeleted.inc(),
    };
  }
}
