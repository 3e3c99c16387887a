export function printSummary(results: Record<string, unknown>): void { console.log(JSON.stringify(results, (k, v) => (k === 'samples' || k === 'delays' ? `[${v.length}]` : v), 2)); }
