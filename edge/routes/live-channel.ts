/**
 * `GET /_ingest/live/STREAM_ID?sidecar=ID&broadcast=ID`, a WebSocket upgrade: the sidecar's live
 * channel for one stream (shared/live-channel-protocol.ts), authorized as the write API is (the
 * stream's write token, or the ingest secret) and handed to the stream's live state, which grants
 * or refuses the lease. A channel lives no longer than its write token: the live state closes it
 * when the token expires, and the sidecar opens it again with a new one.
 */
import { Hono } from 'hono';
import { parseLeaseRequest } from '../../shared/live-channel-protocol.ts';
import { isPlaybackId } from '../../shared/playback-id.ts';
import { httpError } from '../errors.ts';
import type { LowLatencyCoordinator } from '../low-latency/coordinator.ts';
import { writeCredentialCheck, type WriteApiOptions, type WriteEnv } from './write-api.ts';

export function liveChannelRoutes(options: Pick<WriteApiOptions, 'secret' | 'peerAddress'> & { lowLatency?: LowLatencyCoordinator }): Hono<WriteEnv> {
  const routes = new Hono<WriteEnv>();
  routes.use('*', writeCredentialCheck(options));
  routes.get('/:playbackId', async (c) => {
    const playbackId = c.req.param('playbackId');
    if (!isPlaybackId(playbackId)) throw httpError(400, 'not a stream id');
    const scope = c.get('writeScope');
    if (scope !== '*' && scope !== playbackId) throw httpError(403, `this write token is for stream "${scope}", not "${playbackId}"`);
    if (!options.lowLatency) throw httpError(501, 'this edge has no low-latency live state: run the sidecar with --low-latency off');
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') throw httpError(426, 'the live channel is a WebSocket: send "Upgrade: websocket"');
    const lease = parseLeaseRequest(new URL(c.req.url));
    if (!lease.ok) throw httpError(400, lease.reason);
    const expiresAt = c.get('writeExpiresAt');
    return options.lowLatency.openChannel(playbackId, { ...lease.lease, ...(expiresAt !== undefined ? { closeAt: expiresAt * 1000 } : {}) }, c);
  });
  return routes;
}
