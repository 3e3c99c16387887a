export function writeCharts(_results: Record<string, unknown>, _dir: string): string[] { return []; }
