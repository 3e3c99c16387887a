import { describe, expect, it } from 'vitest';
import { AllocatorSettingError, childEnvironment, installedJemalloc, planMemorySetup, YOUNG_GENERATION_FLAG } from '../../ingest/memory-allocator.ts';

const JEMALLOC = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';
const plan = (env: NodeJS.ProcessEnv, options: { execArgv?: string[]; jemalloc?: string; platform?: NodeJS.Platform } = {}) =>
  planMemorySetup({ platform: options.platform ?? 'linux', env, execArgv: options.execArgv ?? [], jemalloc: 'jemalloc' in options ? options.jemalloc : JEMALLOC });

describe("the sidecar's memory settings", () => {
  it('preloads an installed jemalloc and sets the young generation, keeping what LD_PRELOAD already held', () => {
    expect(plan({})).toEqual({ allocator: 'jemalloc', env: { LD_PRELOAD: JEMALLOC, INGEST_PRELOADED_ALLOCATOR: JEMALLOC }, nodeFlags: [YOUNG_GENERATION_FLAG] });
    expect(plan({ LD_PRELOAD: '/opt/trace.so' }).env.LD_PRELOAD).toBe(`/opt/trace.so ${JEMALLOC}`);
  });

  it('asks for nothing once the process runs with them (so it restarts once)', () => {
    expect(plan({ LD_PRELOAD: JEMALLOC }, { execArgv: ['--max-semi-space-size=16'] })).toEqual({ allocator: 'jemalloc', env: {}, nodeFlags: [] });
  });

  it("keeps a young-generation size the operator chose, on the command line or in NODE_OPTIONS", () => {
    expect(plan({}, { execArgv: ['--max-semi-space-size=32'] }).nodeFlags).toEqual([]);
    expect(plan({ NODE_OPTIONS: '--enable-source-maps --max-semi-space-size=8' }).nodeFlags).toEqual([]);
  });

  it('falls back to glibc with a fixed mmap threshold without jemalloc, or when told to use the system malloc', () => {
    expect(plan({}, { jemalloc: undefined })).toEqual({ allocator: 'glibc', env: { MALLOC_MMAP_THRESHOLD_: '131072' }, nodeFlags: [YOUNG_GENERATION_FLAG] });
    expect(plan({ INGEST_ALLOCATOR: 'system' }).allocator).toBe('glibc');
    expect(plan({ INGEST_ALLOCATOR: 'system', MALLOC_MMAP_THRESHOLD_: '262144' }).env).toEqual({});
  });

  it('refuses an unknown allocator, and jemalloc asked for but not installed, saying what to do', () => {
    expect(() => plan({ INGEST_ALLOCATOR: 'tcmalloc' })).toThrow(AllocatorSettingError);
    expect(() => plan({ INGEST_ALLOCATOR: 'jemalloc' }, { jemalloc: undefined })).toThrow(/apt-get install libjemalloc2/);
  });

  it('leaves the allocator alone off Linux', () => {
    expect(plan({}, { platform: 'darwin' })).toEqual({ allocator: 'platform', env: {}, nodeFlags: [YOUNG_GENERATION_FLAG] });
  });

  it("gives ffmpeg the environment without the sidecar's own preload, and the operator's preloads intact", () => {
    const env = { PATH: '/usr/bin', LD_PRELOAD: `/opt/trace.so ${JEMALLOC}`, INGEST_PRELOADED_ALLOCATOR: JEMALLOC, INGEST_MEMORY_SETUP: '1' };
    expect(childEnvironment(env)).toEqual({ PATH: '/usr/bin', LD_PRELOAD: '/opt/trace.so' });
    expect(childEnvironment({ PATH: '/usr/bin', LD_PRELOAD: JEMALLOC, INGEST_PRELOADED_ALLOCATOR: JEMALLOC })).toEqual({ PATH: '/usr/bin' });
    // An operator who preloads jemalloc for everything keeps it for ffmpeg too.
    expect(childEnvironment({ LD_PRELOAD: JEMALLOC })).toEqual({ LD_PRELOAD: JEMALLOC });
  });

  it('finds jemalloc where distributions install it', () => {
    expect(installedJemalloc((path) => path === '/usr/lib64/libjemalloc.so.2')).toBe('/usr/lib64/libjemalloc.so.2');
    expect(installedJemalloc(() => false)).toBeUndefined();
  });
});
