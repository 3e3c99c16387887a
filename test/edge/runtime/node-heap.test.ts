import { describe, expect, it } from 'vitest';
import { OLD_GENERATION_FLAG, planEdgeHeapFlags } from '../../../edge/runtime/node-heap.ts';

describe("the Node edge's V8 heap setting", () => {
  it('adds the old generation starting size to a process started without one', () => {
    expect(planEdgeHeapFlags([], {})).toEqual([OLD_GENERATION_FLAG]);
    expect(planEdgeHeapFlags(['--enable-source-maps'], { NODE_OPTIONS: '--max-old-space-size=4096' })).toEqual([OLD_GENERATION_FLAG]);
  });

  it("asks for nothing once the process runs with it (so it restarts once), or with the operator's own size", () => {
    expect(planEdgeHeapFlags([OLD_GENERATION_FLAG], {})).toEqual([]);
    expect(planEdgeHeapFlags(['--initial-old-space-size=512'], {})).toEqual([]);
    expect(planEdgeHeapFlags([], { NODE_OPTIONS: '--initial-old-space-size=64' })).toEqual([]);
  });
});
