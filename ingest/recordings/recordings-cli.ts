/**
 * `npm run streams -- recordings NAME` (`--delete ID`, `--record on|off|default`): a stream's recordings, from the
 * platform's management API (/api/v1/streams/NAME/recordings). Recordings live in the platform's
 * storage, which only the edge lists: without a running platform (or --edge-url and an admin
 * token) there is nothing to ask.
 */
import { Option, type Command } from 'commander';
import type { PlatformClient } from '../streams/platform-client.ts';
import { StreamStoreError } from '../streams/stream-store.ts';

/** A recording as the management API shows it (edge/routes/recordings-api.ts recordingView). */
export interface RecordingView {
  id: string;
  state: 'recording' | 'ready';
  startedAt: string;
  endedAt: string | null;
  durationSeconds: number;
  bytes: number;
  expiresAt: string | null;
  urls: { hls: string; dash: string; mp4: string };
}

/** One line per recording, for a person. */
export function describeRecording(recording: RecordingView): string {
  const size = recording.bytes >= 1024 * 1024 ? `${(recording.bytes / (1024 * 1024)).toFixed(1)} MiB` : `${Math.ceil(recording.bytes / 1024)} KiB`;
  const when = `${recording.startedAt} (${Math.round(recording.durationSeconds)} s, ${size})`;
  if (recording.state !== 'ready') return `${recording.id}  ${when}  recording (its broadcast goes on)`;
  return `${recording.id}  ${when}  ${recording.urls.hls}  ${recording.urls.mp4}${recording.expiresAt ? `  deleted after ${recording.expiresAt}` : ''}`;
}

export function addRecordingCommands(program: Command, client: () => PlatformClient | undefined, json: () => boolean): void {
  program
    .command('recordings')
    .description("list a stream's recordings (start, duration, size, HLS and MP4 URLs), delete one with its media, or set whether the stream records")
    .argument('<stream>', 'stream name')
    .option('--delete <id>', 'delete this recording (its media and documents)')
    .addOption(new Option('--record <mode>', 'whether the stream records from its next publish: on, off, or default (when its retention is all)').choices(['on', 'off', 'default']))
    .action(async (name: string, options: { delete?: string; record?: 'on' | 'off' | 'default' }) => {
      const platform = client();
      if (!platform) throw new StreamStoreError('recordings are listed by the platform: start it (npm start), or give --edge-url and ADMIN_TOKEN');
      const path = `/${encodeURIComponent(name)}/recordings`;
      if (options.record) {
        const recording = options.record === 'default' ? null : options.record === 'on';
        const { stream } = await platform.call<{ stream: { name: string; recording: boolean | null } }>('PATCH', `/${encodeURIComponent(name)}`, { recording });
        console.log(json() ? JSON.stringify(stream, null, 2) : `Stream "${stream.name}" ${stream.recording === null ? 'records when its retention is "all"' : stream.recording ? 'records' : 'does not record'} (from its next publish).`);
        return;
      }
      if (options.delete) {
        const { deleted } = await platform.call<{ deleted: RecordingView }>('DELETE', `${path}/${encodeURIComponent(options.delete)}`);
        console.log(json() ? JSON.stringify(deleted, null, 2) : `Recording ${deleted.id} of "${name}" deleted, with its media.`);
        return;
      }
      const recordings: RecordingView[] = [];
      let cursor: string | null = null;
      do {
        const page: { recordings: RecordingView[]; nextCursor: string | null } = await platform.call('GET', `${path}${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`);
        recordings.push(...page.recordings);
        cursor = page.nextCursor;
      } while (cursor);
      if (json()) console.log(JSON.stringify(recordings, null, 2));
      else if (recordings.length === 0) console.log(`Stream "${name}" has no recordings (a stream records when its recording setting says so, or its retention is "all"; see README, Recordings).`);
      else for (const recording of recordings) console.log(describeRecording(recording));
    });
}
