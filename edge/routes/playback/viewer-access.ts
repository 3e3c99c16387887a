/** Whether a viewer may have a stream's objects: its status must be readable, and a signed stream needs a valid token. */
import type { Context } from 'hono';
import { verifyPlaybackToken } from '../../../shared/playback-token.ts';
import type { StreamStatus } from '../../../shared/stream-status.ts';
import { httpError } from '../../errors.ts';
import { parsePlaybackQuery, type PlaybackQuery } from '../../manifest/playback-rewrite.ts';
import { readStreamStatus, UnreadableStreamStatus } from '../../storage/stream-status.ts';
import { notYetAvailable } from './responses.ts';
import type { PlaybackDeps } from './viewer-request.ts';

export interface ViewerAccess {
  query: PlaybackQuery;
  status: StreamStatus;
  /** A signed stream's token's expiry (Unix seconds): its responses are the viewer's alone. */
  tokenExpiresAt?: number;
}

/** The viewer's query and the stream's status; no readable status document means the stream never started: nothing to serve yet. */
export async function authorizeViewer(deps: PlaybackDeps, c: Context, playbackId: string): Promise<ViewerAccess> {
  const parsed = parsePlaybackQuery(new URL(c.req.url).searchParams);
  if (!parsed.ok) throw httpError(400, parsed.reason);
  const status = await readStreamStatus(deps.store, playbackId).catch((error: unknown) => {
    if (!(error instanceof UnreadableStreamStatus)) throw error;
    // Not a 404: the stream exists, and a viewer (or a CDN) must not take it for one not started.
    console.error(`edge: ${error.message}`);
    throw httpError(502, "this stream's status at the origin is unreadable");
  });
  if (!status) throw notYetAvailable();
  if (status.playback === 'signed') {
    if (!deps.playbackSecret) throw httpError(503, 'this stream needs signed playback, and the edge has no PLAYBACK_SECRET');
    const check = await verifyPlaybackToken(deps.playbackSecret, parsed.query.token, playbackId, deps.now());
    if (!check.ok) throw httpError(check.status, check.reason);
    return { query: parsed.query, status, tokenExpiresAt: check.expiresAt };
  }
  return { query: parsed.query, status };
}
