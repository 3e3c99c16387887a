/**
 * The system programs the tests drive for real (ffmpeg, ffprobe, Chromium, VLC, openssl): found, or
 * installed with apt-get when running as root on Debian/Ubuntu, or named with the command that
 * installs them.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

interface SystemTool {
  command: string;
  aptPackage: string;
  /** Whether it is there, when being on PATH is not the whole answer (a module of a program). */
  present?: () => boolean;
}

export const TEST_TOOLS: readonly SystemTool[] = [
  { command: 'ffmpeg', aptPackage: 'ffmpeg' },
  { command: 'ffprobe', aptPackage: 'ffmpeg' },
  { command: 'chromium', aptPackage: 'chromium' },
  { command: 'cvlc', aptPackage: 'vlc' },
  // Self-signed certificates for the RTMPS tests.
  { command: 'openssl', aptPackage: 'openssl' },
];

export function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

/** Returns null when every tool is there (after installing what was missing), else what to tell the user. */
export function ensureSystemTools(tools: readonly SystemTool[] = TEST_TOOLS, tag = '[test]'): string | null {
  const missing = () => tools.filter((tool) => (tool.present ? !tool.present() : !findOnPath(tool.command)));
  const packages = [...new Set(missing().map((tool) => tool.aptPackage))];
  if (packages.length === 0) return null;
  const install = `apt-get install -y ${packages.join(' ')}`;
  const canApt = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
  if (!canApt) {
    return `missing ${missing().map((tool) => tool.command).join(', ')}; install with: sudo apt-get update && sudo ${install}`;
  }
  console.log(`${tag} installing ${packages.join(', ')} (${install})…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  spawnSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'inherit', env });
  const still = missing();
  return still.length === 0 ? null : `could not install ${still.map((tool) => tool.command).join(', ')}; try: ${install}`;
}
