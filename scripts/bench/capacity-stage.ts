import type { BenchContext } from './bench-context.ts';
export async function runCapacityStage(context: BenchContext, _o: { steps: number[]; minutesPerServer: number }): Promise<unknown> { void context; throw new Error('not yet'); }
