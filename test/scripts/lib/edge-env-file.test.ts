import { mkdtempSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { envFileLine, writeEdgeEnvFile } from '../../../scripts/lib/edge-env-file.ts';

describe('the env file handed to wrangler dev', () => {
  it.each([
    { name: 'a plain secret', value: 'abc123+/=', expected: "S='abc123+/='" },
    { name: 'a value with a single quote', value: "it's", expected: 'S="it\'s"' },
    { name: 'a value with both quotes', value: `"it's"`, expected: 'S=`"it\'s"`' },
  ])('quotes $name so that dotenv reads it back unchanged', ({ value, expected }) => {
    const line = envFileLine('S', value);
    expect(line).toBe(expected);
    expect(parseEnv(line).S).toBe(value);
  });

  it.each([
    { name: 'a newline', value: 'a\nb', error: /one line/ },
    { name: 'every kind of quote', value: `'"\``, error: /every kind of quote/ },
  ])('refuses a value with $name', ({ value, error }) => {
    expect(() => envFileLine('S', value)).toThrow(error);
  });

  it('is readable by this user only, carries .dev.vars, puts the given secrets on top, and is removed', () => {
    const devVars = join(mkdtempSync(join(tmpdir(), 'devvars-')), '.dev.vars');
    writeFileSync(devVars, 'SEGMENT_BASE_URL="https://cdn.example.com/live/"\nINGEST_SECRET="old"\n');
    const file = writeEdgeEnvFile({ INGEST_SECRET: 'new-secret', PLAYBACK_SECRET: undefined }, devVars);
    expect(statSync(file.path).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(file.path)).mode & 0o777).toBe(0o700);
    expect(parseEnv(readFileSync(file.path, 'utf8'))).toEqual({ SEGMENT_BASE_URL: 'https://cdn.example.com/live/', INGEST_SECRET: 'new-secret' });
    file.remove();
    expect(existsSync(file.path)).toBe(false);
  });
});
