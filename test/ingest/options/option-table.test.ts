import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { commandFor, renderOptionsMarkdown, resolveOptions, type OptionTable } from '../../../ingest/options/option-table.ts';
import { SIDECAR_OPTIONS } from '../../../ingest/options/sidecar-options.ts';
import { README_PATH, withOptionsTable } from '../../../scripts/readme-options.ts';

const TABLE = {
  port: { flag: '--port', value: '<port>', env: 'PORT', default: '80', parse: (text: string) => Number(text), help: 'port' },
  name: { flag: '--name', value: '<name>', env: 'NAME', help: 'a name' },
  mode: { flag: '--mode', value: '<mode>', env: 'MODE', default: 'on', choices: ['on', 'off'], help: 'mode' },
  loud: { flag: '--loud', env: 'LOUD', help: 'be loud' },
  secret: { env: 'SECRET', help: 'a secret' },
} as const satisfies OptionTable;

/** Runs a resolve; the values, or the one error line commander would print before exiting. */
function resolve(argv: string[], env: Record<string, string | undefined>) {
  const errors: string[] = [];
  const exit = vi.spyOn(process, 'exit').mockImplementation(() => {
    throw new Error('exit');
  });
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((text) => (errors.push(String(text)), true));
  try {
    return { values: resolveOptions(commandFor('test', 'test', TABLE), TABLE, argv, env) };
  } catch {
    return { error: errors.join('') };
  } finally {
    exit.mockRestore();
    stderr.mockRestore();
  }
}

describe('an option table', () => {
  it.each([
    { name: 'defaults', argv: [], env: {}, expected: { port: 80, name: undefined, mode: 'on', loud: false, secret: undefined } },
    { name: 'the environment over defaults', argv: [], env: { PORT: '81', NAME: 'x', MODE: 'off', LOUD: 'yes', SECRET: 's' }, expected: { port: 81, name: 'x', mode: 'off', loud: true, secret: 's' } },
    { name: 'flags over the environment', argv: ['--port', '82', '--name', 'y', '--loud'], env: { PORT: '81', NAME: 'x', LOUD: '0' }, expected: { port: 82, name: 'y', mode: 'on', loud: true, secret: undefined } },
    { name: 'an empty variable is unset', argv: [], env: { PORT: '', SECRET: '' }, expected: { port: 80, name: undefined, mode: 'on', loud: false, secret: undefined } },
  ])('resolves $name', ({ argv, env, expected }) => {
    expect(resolve(argv, env).values).toEqual(expected);
  });

  it('refuses a value from the environment that its flag would refuse, naming the variable', () => {
    expect(resolve([], { MODE: 'sideways' }).error).toMatch(/MODE="sideways" is invalid: expected one of on, off/);
    expect(resolve(['--mode', 'sideways'], {}).error).toMatch(/--mode/);
  });

  it('shows each variable and default in --help, and the environment-only settings after', () => {
    const help = commandFor('test', 'test', TABLE).helpInformation() + '';
    expect(help).toMatch(/--port <port>\s+port \(env: PORT; default: 80\)/);
    expect(help).toMatch(/--loud\s+be loud \(env: LOUD=1\)/);
    expect(help).not.toContain('SECRET');
  });

  it('renders a markdown row per option, a switch "off" and an unset value "none"', () => {
    const rows = renderOptionsMarkdown(TABLE).split('\n');
    expect(rows).toHaveLength(2 + Object.keys(TABLE).length);
    expect(rows).toContain('| `--loud` | `LOUD=1` | off | be loud |');
    expect(rows).toContain('|  | `SECRET` | none | a secret |');
    expect(rows).toContain('| `--mode` | `MODE` | `on` | mode (`on`, `off`) |');
  });
});

describe('the sidecar options', () => {
  it('parse their own defaults', () => {
    for (const [key, spec] of Object.entries(SIDECAR_OPTIONS as OptionTable)) {
      if (spec.default === undefined || !spec.parse) continue;
      expect(() => spec.parse!(spec.default!), key).not.toThrow();
    }
  });

  it("are the README's configuration table (node scripts/readme-options.ts --write makes it)", () => {
    const readme = readFileSync(README_PATH, 'utf8');
    expect(readme, 'README.md disagrees with ingest/options/sidecar-options.ts: run node scripts/readme-options.ts --write').toBe(withOptionsTable(readme));
  });
});
