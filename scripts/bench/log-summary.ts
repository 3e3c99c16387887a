/**
 * What a server said while it was measured, in a line or two of a report: its warnings and
 * errors counted by message (pino JSON lines; other lines by their text), the commonest first.
 */
export interface LogSummary {
  lines: number;
  /** [message, times], the commonest first. */
  top: [string, number][];
}

// Numbers vary from line to line of the same message (seconds, counts, sizes): counted as one.
const NUMBERS = /\d+(?:\.\d+)?/g;

export function summarizeLog(lines: readonly string[], topCount = 5): LogSummary {
  const counts = new Map<string, number>();
  for (const line of lines) {
    const message = messageOf(line).replace(NUMBERS, 'N');
    counts.set(message, (counts.get(message) ?? 0) + 1);
  }
  const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, topCount);
  return { lines: lines.length, top };
}

function messageOf(line: string): string {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return trimmed;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    if (parsed && typeof parsed === 'object' && 'msg' in parsed && typeof parsed.msg === 'string') return parsed.msg;
  } catch {
    // Not JSON after all: the line as it is.
  }
  return trimmed;
}

/** One line: "N lines; 12 × message, 3 × other". */
export function describeLogSummary(summary: LogSummary): string {
  if (summary.lines === 0) return 'nothing logged';
  return `${summary.lines} lines; ${summary.top.map(([message, times]) => `${times} × ${message}`).join('; ')}`;
}
