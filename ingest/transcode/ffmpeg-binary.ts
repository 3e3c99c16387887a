/** Finds the ffmpeg binary: FFMPEG_PATH, else ffmpeg-static's when installed, else ffmpeg on PATH. */
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

export class FfmpegNotFoundError extends Error {
  override name = 'FfmpegNotFoundError';
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function ffmpegStaticPath(): string | undefined {
  try {
    // ffmpeg-static is an optional dependency: its binary download fails without internet.
    const path: unknown = createRequire(import.meta.url)('ffmpeg-static');
    return typeof path === 'string' && isExecutable(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

function onPath(name: string, pathVariable: string | undefined): string | undefined {
  for (const dir of (pathVariable ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

export function locateFfmpeg(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.FFMPEG_PATH;
  if (configured) {
    if (isExecutable(configured)) return configured;
    throw new FfmpegNotFoundError(`FFMPEG_PATH=${configured} is not an executable file; point it at an ffmpeg binary or unset it`);
  }
  const found = ffmpegStaticPath() ?? onPath('ffmpeg', env.PATH);
  if (found) return found;
  throw new FfmpegNotFoundError(
    'ffmpeg not found: install it (Debian/Ubuntu: sudo apt-get install -y ffmpeg; macOS: brew install ffmpeg) or set FFMPEG_PATH',
  );
}
