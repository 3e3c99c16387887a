import { describe, expect, it } from 'vitest';
import { allocatorAdvice, MMAP_THRESHOLD_ENV, runsOnGlibc } from '../../ingest/memory-allocator.ts';

describe("the sidecar's advice on glibc's mmap threshold", () => {
  it('says what to set when running on glibc without it', () => {
    expect(allocatorAdvice('linux', {}, () => true)).toContain(`${MMAP_THRESHOLD_ENV}=131072`);
  });

  it('is silent when it is set (to anything the operator chose), on musl, and off Linux', () => {
    expect(allocatorAdvice('linux', { [MMAP_THRESHOLD_ENV]: '262144' }, () => true)).toBeUndefined();
    expect(allocatorAdvice('linux', {}, () => false)).toBeUndefined();
    expect(allocatorAdvice('darwin', {}, () => true)).toBeUndefined();
  });

  // The project's machines are Debian; on Alpine (musl) this would rightly say false.
  it.runIf(process.platform === 'linux')('recognizes this Debian machine as glibc', () => {
    expect(runsOnGlibc()).toBe(true);
  });
});
