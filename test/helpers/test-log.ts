/** End-to-end tests keep what their processes printed in test-output/, for reading after a failure. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../scripts/lib/local-platform.ts';

export function saveTestLog(name: string, lines: readonly string[]): void {
  mkdirSync(join(PROJECT_ROOT, 'test-output'), { recursive: true });
  writeFileSync(join(PROJECT_ROOT, 'test-output', `${name}.log`), lines.join('\n') + '\n');
}
