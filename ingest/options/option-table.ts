/**
 * A command's options declared once, as a table: each row gives the flag, the environment
 * variable, the default (as text, the way a user would type it), the parser and the help. The
 * command line (commander), the typed values and the README's table are all made from it, so
 * they cannot disagree.
 *
 * Values come from the command line, then the environment given to resolveOptions (never
 * process.env behind its back), then the default.
 */
import { Command, InvalidArgumentError, Option } from 'commander';

export interface OptionSpec {
  /** `--rtmp-port`; absent for a setting read from the environment only (secrets). */
  flag?: string;
  /** The value's placeholder in help (`<port>`); absent for a switch (on when given). */
  value?: string;
  env?: string;
  /** The default as a user would type it; parsed like any other value. */
  default?: string;
  /** What --help and the README say when there is no default value (`pretty on a terminal, else json`). */
  defaultText?: string;
  parse?: (text: string) => unknown;
  choices?: readonly string[];
  help: string;
  /** Left out of --help and the README (measuring aids). */
  hidden?: boolean;
  /** Read elsewhere (by a module that runs before or without the configuration): documented only. */
  documentedOnly?: boolean;
}

export type OptionTable = Readonly<Record<string, OptionSpec>>;

type ParsedValue<S> = S extends { parse: (text: string) => infer T }
  ? T
  : S extends { choices: readonly (infer C)[] }
    ? C
    : string;

type ValueOrAbsent<S> = S extends { default: string } ? ParsedValue<S> : ParsedValue<S> | undefined;

/** A switch (a flag without a value) is a boolean; an option with a default always has a value; any other may be absent. */
type ResolvedValue<S> = S extends { flag: string } ? (S extends { value: string } ? ValueOrAbsent<S> : boolean) : ValueOrAbsent<S>;

export type OptionValues<T extends OptionTable> = { -readonly [K in keyof T]: ResolvedValue<T[K]> };

function isSwitch(spec: OptionSpec): boolean {
  return spec.flag !== undefined && spec.value === undefined;
}

// How a switch is turned on from the environment (INGEST_OPEN=1).
const ENV_SWITCH_ON = ['1', 'true', 'yes'];

function defaultShown(spec: OptionSpec): string | undefined {
  if (spec.default !== undefined) return spec.default;
  return spec.defaultText;
}

function helpOf(spec: OptionSpec): string {
  const extras = [spec.env && `env: ${isSwitch(spec) ? `${spec.env}=1` : spec.env}`, defaultShown(spec) !== undefined && `default: ${defaultShown(spec)}`].filter(Boolean);
  return extras.length > 0 ? `${spec.help} (${extras.join('; ')})` : spec.help;
}

/** The commander command for a table: parsing and --help, no defaults or environment (resolveOptions adds them). */
export function commandFor(name: string, description: string, table: OptionTable): Command {
  const command = new Command(name).description(description);
  for (const spec of Object.values(table)) {
    if (!spec.flag || spec.documentedOnly) continue;
    const option = new Option(spec.value ? `${spec.flag} ${spec.value}` : spec.flag, helpOf(spec));
    if (spec.choices) option.choices(spec.choices);
    if (spec.parse) option.argParser(spec.parse);
    if (spec.hidden) option.hideHelp();
    command.addOption(option);
  }
  const environmentOnly = Object.values(table).filter((spec) => !spec.flag && spec.env && !spec.hidden);
  if (environmentOnly.length > 0) {
    const width = Math.max(...environmentOnly.map((spec) => spec.env!.length));
    command.addHelpText(
      'after',
      '\nFrom the environment only (secrets never go on a command line: every user of the machine can read it):\n' +
        environmentOnly.map((spec) => `  ${spec.env!.padEnd(width)}  ${spec.help}${defaultShown(spec) ? ` (default: ${defaultShown(spec)})` : ''}`).join('\n'),
    );
  }
  return command;
}

/** commander's key for a flag: `--rtmp-port` → `rtmpPort`. */
function attributeName(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

function parseText(spec: OptionSpec, text: string): unknown {
  if (spec.choices && !spec.choices.includes(text)) throw new InvalidArgumentError(`expected one of ${spec.choices.join(', ')}`);
  return spec.parse ? spec.parse(text) : text;
}

/**
 * Parses argv with the table's command, then fills in what the command line left out from `env`
 * and the defaults. A bad value from the environment is reported like a bad flag (command.error).
 */
export function resolveOptions<T extends OptionTable>(command: Command, table: T, argv: string[], env: Record<string, string | undefined>): OptionValues<T> {
  command.parse(argv, { from: 'user' });
  const given = command.opts<Record<string, unknown>>();
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) {
    const fromCommandLine = spec.flag ? given[attributeName(spec.flag)] : undefined;
    if (fromCommandLine !== undefined) {
      values[key] = fromCommandLine;
      continue;
    }
    const fromEnvironment = spec.env ? env[spec.env] : undefined;
    if (isSwitch(spec)) {
      values[key] = fromEnvironment !== undefined && ENV_SWITCH_ON.includes(fromEnvironment.toLowerCase());
      continue;
    }
    const text = fromEnvironment !== undefined && fromEnvironment !== '' ? fromEnvironment : spec.default;
    if (text === undefined) {
      values[key] = undefined;
      continue;
    }
    try {
      values[key] = parseText(spec, text);
    } catch (error) {
      const source = text === spec.default ? `the default of ${spec.flag ?? spec.env}` : `${spec.env}=${JSON.stringify(text)}`;
      command.error(`error: ${source} is invalid: ${(error as Error).message}`);
    }
  }
  return values as OptionValues<T>;
}

function markdownCell(text: string | undefined): string {
  return text ? text.replaceAll('|', '\\|') : '';
}

function code(text: string | undefined): string {
  return text ? `\`${text}\`` : '';
}

/** The README's table: one row per option, in the table's order. */
export function renderOptionsMarkdown(table: OptionTable): string {
  const rows = ['| flag | env | default | meaning |', '| --- | --- | --- | --- |'];
  for (const spec of Object.values(table)) {
    if (spec.hidden) continue;
    const env = spec.env && (isSwitch(spec) ? `${spec.env}=1` : spec.env);
    const shownDefault = spec.default !== undefined ? code(spec.default) : isSwitch(spec) ? 'off' : markdownCell(spec.defaultText ?? 'none');
    const choices = spec.choices ? ` (${spec.choices.map((choice) => code(choice)).join(', ')})` : '';
    rows.push(`| ${code(spec.flag)} | ${code(env)} | ${shownDefault} | ${markdownCell(spec.help)}${choices} |`);
  }
  return rows.join('\n');
}
