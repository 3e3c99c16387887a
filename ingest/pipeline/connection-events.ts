/**
 * The platform's stream.connected / stream.disconnected for one publisher: connected once its
 * stream's lease is granted (a publisher refused for the lease, because another sidecar holds the
 * stream or is being taken over from, never connected as far as the platform's events go), and
 * disconnected when it leaves, only if it connected.
 */
import type { PublishHandler } from '../rtmp/rtmp-server.ts';
import type { StreamEventSubject, StreamEvents } from '../streams/event-reporter.ts';
import type { LeaseOutcome } from '../upload/live-channel.ts';

export function reportingConnection(handler: PublishHandler, events: StreamEvents, subject: StreamEventSubject, lease: Promise<LeaseOutcome> | undefined): PublishHandler {
  const connected = (lease ?? Promise.resolve<LeaseOutcome>({ ok: true })).then((outcome) => {
    if (outcome.ok) events.report('stream.connected', subject);
    return outcome.ok;
  });
  return {
    ...handler,
    onEnd: () => {
      void connected.then((ok) => {
        if (ok) events.report('stream.disconnected', subject);
      });
      handler.onEnd();
    },
  };
}
