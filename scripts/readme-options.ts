/**
 * The README's table of sidecar options is made from ingest/options/sidecar-options.ts: this
 * prints it, or with --write puts it into README.md between its markers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { renderOptionsMarkdown } from '../ingest/options/option-table.ts';
import { SIDECAR_OPTIONS } from '../ingest/options/sidecar-options.ts';

export const README_PATH = fileURLToPath(new URL('../README.md', import.meta.url));
export const TABLE_START = '<!-- sidecar options: made by scripts/readme-options.ts from ingest/options/sidecar-options.ts -->';
export const TABLE_END = '<!-- end of sidecar options -->';

/** README's text with the generated table between the markers; throws when the markers are missing. */
export function withOptionsTable(readme: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`README.md has no "${TABLE_START}" ... "${TABLE_END}" section`);
  return `${readme.slice(0, start + TABLE_START.length)}\n${renderOptionsMarkdown(SIDECAR_OPTIONS)}\n${readme.slice(end)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const program = new Command('readme-options')
    .description("Prints the README's table of sidecar options, made from ingest/options/sidecar-options.ts")
    .option('--write', 'put it into README.md between its markers instead')
    .parse();
  if (program.opts<{ write?: boolean }>().write) {
    writeFileSync(README_PATH, withOptionsTable(readFileSync(README_PATH, 'utf8')));
    console.log('README.md: sidecar options table written');
  } else {
    console.log(renderOptionsMarkdown(SIDECAR_OPTIONS));
  }
}
