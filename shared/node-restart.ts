/**
 * Restarting a Node process in place into settings that must be there before it starts (V8 heap
 * flags, a preloaded allocator). Node only: the sidecar and the Node edge call it first thing.
 */

export interface ProcessSettings {
  /** Node flags to add to the process's own. */
  nodeFlags: readonly string[];
  /** Environment the process must start with (only what differs from its environment now). */
  env: Readonly<Record<string, string>>;
}

/**
 * Restarts the process with `settings` when they add anything (the call then does not return),
 * or returns why it runs without them: undefined when nothing was missing. `process.execve`
 * replaces the program in place: the process id, open descriptors and arguments stay, so a
 * supervisor sees one process. `markerEnv` is set in the restarted process so it never restarts twice.
 */
export function restartWithSettings(settings: ProcessSettings, markerEnv: string): string | undefined {
  if (Object.keys(settings.env).length === 0 && settings.nodeFlags.length === 0) return undefined;
  if (process.env[markerEnv] !== undefined) return 'the settings did not take after a restart';
  if (typeof process.execve !== 'function') return 'this Node cannot restart a process in place (process.execve)';
  process.execve(
    process.execPath,
    [process.execPath, ...process.execArgv, ...settings.nodeFlags, ...process.argv.slice(1)],
    { ...process.env, ...settings.env, [markerEnv]: '1' },
  );
  throw new Error('unreachable: process.execve returned');
}

/** The first of the process's Node flags (command line, then NODE_OPTIONS) that `matches`. */
export function nodeFlagGiven(execArgv: readonly string[], env: Readonly<Record<string, string | undefined>>, matches: RegExp): string | undefined {
  return [...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].find((flag) => matches.test(flag));
}
