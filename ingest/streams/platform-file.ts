/**
 * Where a running local platform's management API is: `npm start` writes `platform.json` into the
 * state folder (the edge's URL and its admin token; mode 0600, the folder the sidecar's own) and
 * removes it when it stops, so `npm run streams` finds the edge without flags while it runs.
 */
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PlatformFile {
  edgeUrl: string;
  adminToken: string;
}

export const PLATFORM_FILE_NAME = 'platform.json';

export function platformFilePath(stateDir: string): string {
  return join(stateDir, PLATFORM_FILE_NAME);
}

export function writePlatformFile(stateDir: string, platform: PlatformFile): () => void {
  mkdirSync(stateDir, { recursive: true });
  const path = platformFilePath(stateDir);
  writeFileSync(path, JSON.stringify(platform, null, 2) + '\n', { mode: 0o600 });
  // An existing file keeps its mode on write: the token in it is for this user only.
  chmodSync(path, 0o600);
  return () => rmSync(path, { force: true });
}

/** The running platform's file, or undefined when there is none (or it is not ours to read). */
export function readPlatformFile(stateDir: string): PlatformFile | undefined {
  let text: string;
  try {
    text = readFileSync(platformFilePath(stateDir), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Partial<PlatformFile>;
    return typeof parsed.edgeUrl === 'string' && typeof parsed.adminToken === 'string' ? { edgeUrl: parsed.edgeUrl, adminToken: parsed.adminToken } : undefined;
  } catch {
    return undefined;
  }
}
