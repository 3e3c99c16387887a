import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseIngestConfig } from '../../ingest/config.ts';

const MIB = 1024 * 1024;

describe('sidecar configuration: RTMP limits', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('has documented defaults', () => {
    expect(parseIngestConfig([], {}).rtmpLimits).toEqual({
      maxConnections: 200,
      maxConnectionsPerSource: 10,
      handshakeTimeoutMs: 5000,
      publishTimeoutMs: 15_000,
      maxMessageSize: 8 * MIB,
      maxChunkStreams: 16,
      maxPublisherMemory: 20 * MIB,
      maxTotalMemory: 128 * MIB,
    });
  });

  it('takes flags over environment variables, and byte sizes with KiB/MiB', () => {
    // Commander reads option variables from the process environment.
    vi.stubEnv('RTMP_MAX_MESSAGE', '1MiB');
    vi.stubEnv('RTMP_MAX_CONNECTIONS_PER_IP', '3');
    vi.stubEnv('RTMP_MAX_MEMORY', '65536KiB');
    const config = parseIngestConfig(['--rtmp-max-message', '4MiB', '--rtmp-handshake-timeout', '2.5'], {});
    expect(config.rtmpLimits).toMatchObject({ maxMessageSize: 4 * MIB, handshakeTimeoutMs: 2500, maxConnectionsPerSource: 3, maxTotalMemory: 64 * MIB });
  });

  it('has no limits only when told --unguarded-rtmp', () => {
    expect(parseIngestConfig(['--unguarded-rtmp'], {}).rtmpLimits).toBeUndefined();
  });
});
