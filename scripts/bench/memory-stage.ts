import type { BenchContext } from './bench-context.ts';
export async function runMemoryStage(context: BenchContext): Promise<unknown> { void context; throw new Error('not yet'); }
