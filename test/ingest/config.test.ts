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
    const env = { RTMP_MAX_MESSAGE: '1MiB', RTMP_MAX_CONNECTIONS_PER_IP: '3', RTMP_MAX_MEMORY: '65536KiB' };
    const config = parseIngestConfig(['--rtmp-max-message', '4MiB', '--rtmp-handshake-timeout', '2.5'], env);
    expect(config.rtmpLimits).toMatchObject({ maxMessageSize: 4 * MIB, handshakeTimeoutMs: 2500, maxConnectionsPerSource: 3, maxTotalMemory: 64 * MIB });
  });

  it('has no limits only when told --unguarded-rtmp', () => {
    expect(parseIngestConfig(['--unguarded-rtmp'], {}).rtmpLimits).toBeUndefined();
  });
});

describe('sidecar configuration: the edge it writes to', () => {
  /** Runs the parse; returns the config, or the one error line commander would print before exiting. */
  function parse(argv: string[], env: NodeJS.ProcessEnv): { error?: string } {
    const errors: string[] = [];
    const exit = vi.spyOn(process, 'exit').mockImplementation(() => {
      throw new Error('exit');
    });
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((text) => (errors.push(String(text)), true));
    try {
      parseIngestConfig(argv, env);
      return {};
    } catch {
      return { error: errors.join('') };
    } finally {
      exit.mockRestore();
      stderr.mockRestore();
    }
  }

  it.each([
    { name: 'no secret, edge on this machine (development)', argv: [], env: {}, error: undefined },
    { name: 'no secret, localhost by name', argv: ['--edge-url', 'http://localhost:8787'], env: {}, error: undefined },
    { name: 'no secret, remote edge', argv: ['--edge-url', 'https://edge.example.com'], env: {}, error: /INGEST_SECRET is not set/ },
    { name: 'the development secret, remote edge', argv: ['--edge-url', 'https://edge.example.com'], env: { INGEST_SECRET: 'dev-only-ingest-secret' }, error: /development secret/ },
    { name: 'a real secret, remote https edge', argv: ['--edge-url', 'https://edge.example.com'], env: { INGEST_SECRET: 'x'.repeat(32) }, error: undefined },
    { name: 'a real secret, remote plain-http edge', argv: ['--edge-url', 'http://10.0.0.5:8080'], env: { INGEST_SECRET: 'x'.repeat(32) }, error: /clear text.*--insecure-edge/ },
    { name: 'a remote plain-http edge with --insecure-edge', argv: ['--edge-url', 'http://10.0.0.5:8080', '--insecure-edge'], env: { INGEST_SECRET: 'x'.repeat(32) }, error: undefined },
    { name: 'a look-alike of localhost', argv: ['--edge-url', 'http://127.0.0.1.example.com'], env: {}, error: /INGEST_SECRET is not set/ },
    { name: 'no secret, S3 storage (the secret is not used)', argv: ['--storage', 'fs'], env: {}, error: undefined },
  ])('$name', ({ argv, env, error }) => {
    const result = parse(argv, env);
    if (error) expect(result.error).toMatch(error);
    else expect(result.error).toBeUndefined();
  });
});

describe('sidecar configuration: the environment it is given', () => {
  it('reads the environment passed to it, not the process environment', () => {
    vi.stubEnv('RTMP_PORT', '2000');
    try {
      expect(parseIngestConfig([], { RTMP_PORT: '1999', ADMIN_TOKEN: 'a', PLAYBACK_SECRET: 'p', INGEST_OPEN: '1' })).toMatchObject({ rtmpPort: 1999, adminToken: 'a', playbackSecret: 'p', open: true });
      expect(parseIngestConfig([], {})).toMatchObject({ rtmpPort: 1935, adminToken: undefined, playbackSecret: undefined, open: false });
    } finally {
      vi.unstubAllEnvs();
    }
  });
});


describe('sidecar configuration: thumbnails', () => {
  it.each([
    { name: 'on by default, JPEG only', argv: [], env: {}, expected: true, webp: false },
    { name: 'off by flag', argv: ['--thumbnails', 'off'], env: {}, expected: false, webp: false },
    { name: 'off by environment', argv: [], env: { THUMBNAILS: 'off' }, expected: false, webp: false },
    { name: 'WebPs too by flag', argv: ['--thumbnails', 'webp'], env: {}, expected: true, webp: true },
  ])('$name', ({ argv, env, expected, webp }) => {
    const config = parseIngestConfig(argv, env);
    expect(config.thumbnails).toBe(expected);
    expect(config.thumbnailWebp).toBe(webp);
  });
});

describe('sidecar configuration: low-latency parts', () => {
  it('cuts parts of at most 0.333 s by default (PART-HOLD-BACK 1.0 s at the edge), --chunk-duration or CHUNK_DURATION otherwise', () => {
    expect(parseIngestConfig([], {}).chunkDuration).toBe(0.333);
    expect(parseIngestConfig([], { CHUNK_DURATION: '0.22' }).chunkDuration).toBe(0.22);
    expect(parseIngestConfig(['--chunk-duration', '0.5'], { CHUNK_DURATION: '0.22' }).chunkDuration).toBe(0.5);
  });
});
