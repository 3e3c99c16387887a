/**
 * The sidecar's access policy from its configuration: the local streams file (`--stream-registry
 * file`, the default) or the platform's registry on the edge (`--stream-registry edge`), with the
 * start-up checks of open mode for either.
 */
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { IngestConfig } from '../config.ts';
import type { AccessPolicy } from './access-policy.ts';
import { EventReporter, type StreamEvents } from './event-reporter.ts';
import { platformOutputStatesSink, type OutputStatesSink } from '../restream/output-state-watch.ts';
import { PlatformAccess, RegistryUnreachable } from './platform-access.ts';
import { PublishAccess } from './publish-access.ts';
import { StreamStore, StreamStoreError } from './stream-store.ts';

/** Why the sidecar cannot start (main.ts prints it and exits). */
export class AccessSetupError extends Error {
  override name = 'AccessSetupError';
}

const OPEN_MODE_ENDED = 'OPEN MODE ENDED: a stream was configured while the sidecar ran; from now on only stream keys publish (streams already live continue)';

export interface AccessSetup {
  access: AccessPolicy;
  /** For the "ingest ready" line. */
  facts: Record<string, unknown>;
  /** Streams' events go to the platform (its webhooks) when the sidecar asks the platform. */
  events?: StreamEvents;
  /** Restream output states go to the platform (its management API) when the sidecar asks the platform. */
  outputStates?: OutputStatesSink;
}

export async function setUpAccess(config: IngestConfig, log: Logger): Promise<AccessSetup> {
  const setup = config.streamRegistry === 'edge' ? await platformAccess(config, log) : fileAccess(config, log);
  if (config.open) {
    log.warn('OPEN MODE: any stream name publishes without a key and becomes its public id, until a stream is configured (npm run streams -- add). For local development only.');
  }
  return setup;
}

function fileAccess(config: IngestConfig, log: Logger): AccessSetup {
  const streamStore = new StreamStore(resolve(config.streamsFile));
  let configuredStreams: number;
  try {
    configuredStreams = streamStore.list().length;
  } catch (error) {
    if (!(error instanceof StreamStoreError)) throw error;
    throw new AccessSetupError(error.message);
  }
  if (!config.open && configuredStreams === 0) {
    throw new AccessSetupError(
      `no streams configured in ${streamStore.path}: add one with \`npm run streams -- add NAME\`, ` +
        'or run with --open (INGEST_OPEN=1) for local development, where any stream name publishes',
    );
  }
  if (config.open && configuredStreams > 0) {
    // Open mode beside configured streams would let a keyless name reach a keyed stream's id.
    throw new AccessSetupError(
      `--open refused: ${configuredStreams} stream(s) are configured in ${streamStore.path}, and open mode is only for a sidecar without any. ` +
        'Publish with their stream keys (npm run streams -- list), or give --streams-file an empty file for local development',
    );
  }
  const access = new PublishAccess(config.open ? 'open' : 'keyed', streamStore, {
    onOpenModeEnded: (streams) => log.warn({ configuredStreams: streams, streamsFile: streamStore.path }, OPEN_MODE_ENDED),
  });
  return { access, facts: { streamsFile: streamStore.path, configuredStreams } };
}

async function platformAccess(config: IngestConfig, log: Logger): Promise<AccessSetup> {
  if (config.storage.kind !== 'edge') throw new AccessSetupError('--stream-registry edge needs --storage edge');
  const access = new PlatformAccess({
    edgeUrl: config.storage.edgeUrl,
    ingestSecret: config.storage.secret,
    open: config.open,
    log,
    onOpenModeEnded: (streams) => log.warn({ configuredStreams: streams, streamRegistry: config.storage.kind === 'edge' ? config.storage.edgeUrl : '' }, OPEN_MODE_ENDED),
  });
  let configuredStreams: number | undefined;
  try {
    configuredStreams = (await access.lookup([])).configured;
  } catch (error) {
    if (!(error instanceof RegistryUnreachable)) throw error;
    // Not fatal: the edge may come up after the sidecar. Until it answers, publishes are refused.
    log.warn(`${error.message}: publishes are refused until it answers (keys it accepted recently excepted)`);
  }
  if (config.open && configuredStreams !== undefined && configuredStreams > 0) {
    throw new AccessSetupError(
      `--open refused: ${configuredStreams} stream(s) are configured in the platform registry at ${config.storage.edgeUrl}, and open mode is only while there are none. ` +
        'Publish with their stream keys (npm run streams -- list)',
    );
  }
  if (!config.open && configuredStreams === 0) log.warn('no streams in the platform registry yet: add one with `npm run streams -- add NAME` (until then every publish is refused)');
  const events = new EventReporter({ edgeUrl: config.storage.edgeUrl, ingestSecret: config.storage.secret, log });
  const outputStates = platformOutputStatesSink({ edgeUrl: config.storage.edgeUrl, ingestSecret: config.storage.secret, log });
  return { access, events, outputStates, facts: { streamRegistry: `${config.storage.edgeUrl} (platform)`, ...(configuredStreams === undefined ? {} : { configuredStreams }) } };
}
