/**
 * A real S3-compatible server on loopback (s3rver, in this process). It speaks the S3 REST API
 * but does not verify signatures: signing is tested against AWS's published examples instead.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export interface TestS3Server {
  endpoint: string;
  bucket: string;
  /** Takes the server away as a crash does (open connections dropped, new ones refused), keeping its data. */
  stop(): Promise<void>;
  /** Brings it back on the same port with the same data. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startS3Server(bucket = 'media'): Promise<TestS3Server> {
  const directory = mkdtempSync(join(tmpdir(), 's3rver-'));
  const make = (port: number) => new S3rver({ address: '127.0.0.1', port, silent: true, directory, configureBuckets: [{ name: bucket }] });
  let server = make(0);
  const { port } = (await server.run()) as { port: number };
  let running = true;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    stop: async () => {
      if (running) {
        const closed = server.close();
        // A server that is down answers nobody: requests in flight fail rather than finish, and
        // the close does not wait on a client that keeps a response open.
        server.httpServer?.closeAllConnections();
        await closed;
      }
      running = false;
    },
    start: async () => {
      server = make(port);
      await server.run();
      running = true;
    },
    close: async () => {
      if (running) await server.close();
      running = false;
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
