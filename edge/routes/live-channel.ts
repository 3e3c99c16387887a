/**
 * `GET /_ingest/live/STREAM_ID?sidecar=ID&broadcast=ID`, a WebSocket upgrade: the sidecar's live
 * channel for one stream (shared/live-channel-protocol.ts), authorized as the write API is (the
 * stream's write token, or the ingest secret) and handed to the stream's live state, which grants
 * or refuses the lease.
 */
import { Hono } from 'hono';
import { parseLeaseRequest } from '../../shared/live-channel-protocol.ts';
import { isStreamId } from '../../shared/stream-id.ts';
import { httpError } from '../errors.ts';
import type { LowLatencyCoordinator } from '../low-latency/coordinator.ts';
import { writeCredentialCheck, type WriteApiOptions, type WriteEnv } from './write-api.ts';

export function liveChannelRoutes(options: Pick<WriteApiOptions, 'secret' | 'peerAddress'> & { lowLatency?: LowLatencyCoordinator }): Hono<WriteEnv> {
  const routes = new Hono<WriteEnv>();
  routes.use('*', writeCredentialCheck(options));
  routes.get('/:streamId', async (c) => {
    const streamId = c.req.param('streamId');
    if (!isStreamId(streamId)) throw httpError(400, 'not a stream id');
    const scope = c.get('writeScope');
    if (scope !== '*' && scope !== streamId) throw httpError(403, `this write token is for stream "${scope}", not "${streamId}"`);
    if (!options.lowLatency) throw httpError(501, 'this edge has no low-latency live state: run the sidecar with --low-latency off');
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') throw httpError(426, 'the live channel is a WebSocket: send "Upgrade: websocket"');
    const lease = parseLeaseRequest(new URL(c.req.url));
    if (!lease.ok) throw httpError(400, lease.reason);
    return options.lowLatency.openChannel(streamId, lease.lease, c);
  });
  return routes;
}
