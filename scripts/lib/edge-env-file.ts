/**
 * Secrets for a local `wrangler dev`, handed over in a file only this user can read: on a
 * command line (`--var NAME:value`) every user of the machine sees them in `ps`.
 * wrangler reads the file (`--env-file`) instead of `.dev.vars`, so the project's `.dev.vars`
 * is carried into it, with the given values on top.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';

export interface EdgeEnvFile {
  path: string;
  remove(): void;
}

/** One `NAME='value'` line, quoted with a quote the value does not hold (dotenv has no escapes for them). */
export function envFileLine(name: string, value: string): string {
  if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) throw new Error(`not an environment variable name: ${name}`);
  if (/[\r\n]/.test(value)) throw new Error(`${name} must be one line`);
  const quote = ["'", '"', '`'].find((candidate) => !value.includes(candidate));
  if (!quote) throw new Error(`${name} holds every kind of quote: it cannot be written to an env file`);
  return `${name}=${quote}${value}${quote}`;
}

/** Writes `.dev.vars` (if `devVarsPath` exists) plus `vars` to a new 0600 file in a 0700 folder. */
export function writeEdgeEnvFile(vars: Record<string, string | undefined>, devVarsPath?: string): EdgeEnvFile {
  const fromDevVars = devVarsPath && existsSync(devVarsPath) ? parseEnv(readFileSync(devVarsPath, 'utf8')) : {};
  const merged: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...fromDevVars, ...vars })) if (value !== undefined) merged[name] = value;
  // mkdtemp makes the folder 0700: nobody else may even list it.
  const dir = mkdtempSync(join(tmpdir(), 'edge-env-'));
  const path = join(dir, 'edge.env');
  writeFileSync(path, Object.entries(merged).map(([name, value]) => envFileLine(name, value)).join('\n') + '\n', { mode: 0o600 });
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
