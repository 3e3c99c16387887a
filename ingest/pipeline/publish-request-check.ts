/**
 * What an RTMP publish must look like before anyone is asked about its key: the application, the
 * name's characters and the query string. Pure; the registry refuses with the reason and code.
 */
import type { PublishRequest } from '../rtmp/rtmp-server.ts';

/** RTMP applications that publish streams; `stream` is the blog's name for `live`. */
export const PUBLISH_APPLICATIONS: readonly string[] = ['live', 'stream'];

// Publishers send no query parameters we use; anything but short plain tokens is refused.
const SAFE_QUERY_PART = /^[A-Za-z0-9_.-]{0,128}$/;

export interface PublishRequestProblem {
  reason: string;
  /** The `reason` label of ingest_publishes_refused_total. */
  code: 'invalid-name' | 'unknown-application' | 'invalid-query';
}

export function publishRequestProblem(request: Pick<PublishRequest, 'app' | 'name' | 'query'>): PublishRequestProblem | undefined {
  if (!request.app || !request.name) {
    return { reason: 'application or stream name has characters other than letters, digits, "-" and "_"', code: 'invalid-name' };
  }
  if (!PUBLISH_APPLICATIONS.includes(request.app)) {
    return { reason: `unknown application (publish to rtmp://HOST/${PUBLISH_APPLICATIONS[0]}/KEY)`, code: 'unknown-application' };
  }
  const badQuery = Object.entries(request.query).some(
    ([key, value]) => !SAFE_QUERY_PART.test(key) || [value ?? ''].flat().some((part) => !SAFE_QUERY_PART.test(part)),
  );
  if (badQuery) return { reason: 'unexpected query string on the stream name', code: 'invalid-query' };
  return undefined;
}
