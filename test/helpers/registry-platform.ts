/**
 * The platform as the stream-registry tests need it: the edge under wrangler dev (its own local
 * D1, R2 and queue in `dir`), an admin token, and a sidecar that asks the edge's registry
 * (--stream-registry edge), passthrough only, ending streams at once.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startEdgeDev, startIngest } from '../../scripts/lib/local-platform.ts';
import type { ManagedProcess } from '../../scripts/lib/managed-process.ts';
import { freePort } from './network.ts';

export interface RegistryPlatform {
  edgeUrl: string;
  /** rtmp://127.0.0.1:PORT/live */
  rtmpBase: string;
  adminToken: string;
  stop(): Promise<void>;
}

export async function startRegistryPlatform(options: { dir: string; lines: string[]; vars?: Record<string, string> }): Promise<RegistryPlatform> {
  const [edgePort, rtmpPort] = [await freePort(), await freePort()];
  const edgeUrl = `http://127.0.0.1:${edgePort}`;
  const secret = randomBytes(16).toString('hex');
  const adminToken = randomBytes(24).toString('base64url');
  const running: ManagedProcess[] = [];
  const stop = async () => {
    for (const process of running.reverse()) await process.stop();
  };
  try {
    running.push(
      await startEdgeDev({ port: edgePort, ingestSecret: secret, adminToken, vars: options.vars, persistTo: join(options.dir, 'wrangler'), logLevel: 'warn', onLine: (line) => options.lines.push(`[edge] ${line}`) }),
    );
    running.push(
      await startIngest({
        rtmpPort,
        edgeUrl,
        ingestSecret: secret,
        stateDir: join(options.dir, 'state'),
        extraArgs: ['--stream-registry', 'edge', '--reconnect-window', '0', '--ladder', 'none', '--low-latency', 'off'],
        env: { LOG_FORMAT: 'json' },
        onLine: (line) => options.lines.push(`[ingest] ${line}`),
      }),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { edgeUrl, rtmpBase: `rtmp://127.0.0.1:${rtmpPort}/live`, adminToken, stop };
}
