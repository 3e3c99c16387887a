/**
 * The platform for an end-to-end test (scripts/lib/platform.ts), whose processes' output is saved
 * to test-output/NAME.log when it stops, or when it fails to start: what to read after a failure.
 * Its temporary folder is named after the log.
 */
import { startPlatform, type Platform, type PlatformOptions } from '../../scripts/lib/platform.ts';
import { saveTestLog } from './test-log.ts';

export type { Platform } from '../../scripts/lib/platform.ts';

export async function startTestPlatform(logName: string, options: PlatformOptions): Promise<Platform> {
  const lines = options.lines ?? [];
  let platform: Platform;
  try {
    platform = await startPlatform({ dirPrefix: `${logName}-`, ...options, lines });
  } catch (error) {
    saveTestLog(logName, lines);
    throw error;
  }
  const stop = platform.stop;
  platform.stop = async () => {
    try {
      await stop();
    } finally {
      saveTestLog(logName, lines);
    }
  };
  return platform;
}
