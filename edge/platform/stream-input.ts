/**
 * What the management API accepts, checked field by field before anything touches the registry:
 * names, numbers and enums in their ranges, no unknown fields. Pure: a refusal is an InputError
 * with the reason the client reads.
 */
import { MAX_TOKEN_TTL_SECONDS } from '../../shared/playback-token.ts';
import { isPlaybackId } from '../../shared/playback-id.ts';
import { KEY_SHA256_PATTERN } from '../../shared/stream-keys.ts';
import type { StreamPlayback, StreamRetention, StreamSettings } from './stream-registry.ts';

export class InputError extends Error {
  override name = 'InputError';
}

export const STREAM_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const MAX_RECONNECT_WINDOW_SECONDS = 3600;
export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 100;
export const MAX_IMPORT_STREAMS = 1000;

export function parseStreamName(value: unknown): string {
  if (typeof value !== 'string' || !STREAM_NAME_PATTERN.test(value)) {
    throw new InputError('stream names are 1-63 lower-case letters, digits and "-", starting with a letter or digit');
  }
  return value;
}

function objectOf(value: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError('the body must be a JSON object');
  const unknown = Object.keys(value).filter((field) => !allowed.includes(field));
  if (unknown.length > 0) throw new InputError(`unknown field ${JSON.stringify(unknown[0]!.slice(0, 64))} (allowed: ${allowed.join(', ')})`);
  return value as Record<string, unknown>;
}

function playbackOf(value: unknown): StreamPlayback {
  if (value !== 'public' && value !== 'signed') throw new InputError('playback must be "public" or "signed"');
  return value;
}

function retentionOf(value: unknown): StreamRetention | null {
  if (value !== null && value !== 'window' && value !== 'all') throw new InputError('retention must be "window", "all" or null (the sidecar\'s default)');
  return value;
}

function reconnectWindowOf(value: unknown): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_RECONNECT_WINDOW_SECONDS) {
    throw new InputError(`reconnectWindowSeconds must be whole seconds from 0 to ${MAX_RECONNECT_WINDOW_SECONDS}, or null (the sidecar's default)`);
  }
  return value;
}

export const MAX_STREAM_WEBHOOKS = 5;

function webhookUrlsOf(value: unknown): string[] | null {
  if (value === null) return null;
  const refusal = `webhookUrls must be null (the platform's WEBHOOK_URLS) or a list of at most ${MAX_STREAM_WEBHOOKS} http(s) URLs`;
  if (!Array.isArray(value) || value.length > MAX_STREAM_WEBHOOKS) throw new InputError(refusal);
  return value.map((entry) => {
    if (typeof entry !== 'string' || entry.length > 500) throw new InputError(refusal);
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw new InputError(refusal);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InputError(refusal);
    return url.href;
  });
}

function enabledOf(value: unknown): boolean {
  if (typeof value !== 'boolean') throw new InputError('enabled must be true or false');
  return value;
}

function recordingOf(value: unknown): boolean | null {
  if (value !== null && typeof value !== 'boolean') throw new InputError('recording must be true, false or null (when its retention is "all")');
  return value;
}

export const MAX_RECORDING_DAYS = 36_500;

function recordingDaysOf(value: unknown): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_RECORDING_DAYS) {
    throw new InputError(`recordingDays must be whole days from 0 (kept until deleted) to ${MAX_RECORDING_DAYS}, or null (the sidecar's --recording-days)`);
  }
  return value;
}

const SETTING_FIELDS = ['playback', 'reconnectWindowSeconds', 'retention', 'enabled', 'webhookUrls', 'recording', 'recordingDays'] as const;

function settingsOf(body: Record<string, unknown>): StreamSettings {
  const settings: StreamSettings = {};
  if (body.playback !== undefined) settings.playback = playbackOf(body.playback);
  if (body.reconnectWindowSeconds !== undefined) settings.reconnectWindowSeconds = reconnectWindowOf(body.reconnectWindowSeconds);
  if (body.retention !== undefined) settings.retention = retentionOf(body.retention);
  if (body.enabled !== undefined) settings.enabled = enabledOf(body.enabled);
  if (body.webhookUrls !== undefined) settings.webhookUrls = webhookUrlsOf(body.webhookUrls);
  if (body.recording !== undefined) settings.recording = recordingOf(body.recording);
  if (body.recordingDays !== undefined) settings.recordingDays = recordingDaysOf(body.recordingDays);
  return settings;
}

export interface CreateInput {
  name: string;
  settings: StreamSettings;
}

export function parseCreateBody(value: unknown): CreateInput {
  const body = objectOf(value, ['name', ...SETTING_FIELDS]);
  return { name: parseStreamName(body.name), settings: settingsOf(body) };
}

/** A partial update: at least one field. */
export function parseUpdateBody(value: unknown): StreamSettings {
  const settings = settingsOf(objectOf(value, SETTING_FIELDS));
  if (Object.keys(settings).length === 0) throw new InputError(`nothing to update: give one of ${SETTING_FIELDS.join(', ')}`);
  return settings;
}

/** Playback token request: `ttlSeconds` (default an hour). */
export function parseTokenBody(value: unknown): { ttlSeconds: number } {
  const body = objectOf(value ?? {}, ['ttlSeconds']);
  const ttl = body.ttlSeconds ?? 3600;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TOKEN_TTL_SECONDS) throw new InputError(`ttlSeconds must be whole seconds from 1 to ${MAX_TOKEN_TTL_SECONDS}`);
  return { ttlSeconds: ttl };
}

/** `?limit=&cursor=`: the cursor is the last name of the previous page, as the API handed it out. */
export function parseListQuery(limit: string | undefined, cursor: string | undefined): { limit: number; after?: string } {
  let pageLimit = DEFAULT_PAGE_LIMIT;
  if (limit !== undefined) {
    pageLimit = Number(limit);
    if (!/^\d{1,4}$/.test(limit) || pageLimit < 1 || pageLimit > MAX_PAGE_LIMIT) throw new InputError(`limit must be a whole number from 1 to ${MAX_PAGE_LIMIT}`);
  }
  if (cursor === undefined) return { limit: pageLimit };
  return { limit: pageLimit, after: parseStreamName(cursor) };
}

/** A stream of a `streams.json` (version 1) being imported: its key hash and playback id kept. */
export interface ImportedStream {
  name: string;
  playbackId: string;
  keySha256: string;
  playback: StreamPlayback;
  createdAt: string;
  keyRotatedAt: string;
}

function isoTimeOf(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length > 40 || Number.isNaN(Date.parse(value))) throw new InputError(`${field} must be an ISO 8601 time`);
  return new Date(value).toISOString();
}

export function parseImportBody(value: unknown): ImportedStream[] {
  const body = objectOf(value, ['streams']);
  if (!Array.isArray(body.streams) || body.streams.length > MAX_IMPORT_STREAMS) throw new InputError(`streams must be an array of at most ${MAX_IMPORT_STREAMS}`);
  return body.streams.map((entry, index) => {
    const stream = objectOf(entry, ['name', 'playbackId', 'keySha256', 'playback', 'createdAt', 'keyRotatedAt']);
    const where = `streams[${index}]`;
    if (typeof stream.playbackId !== 'string' || !isPlaybackId(stream.playbackId)) throw new InputError(`${where}.playbackId is invalid`);
    if (typeof stream.keySha256 !== 'string' || !KEY_SHA256_PATTERN.test(stream.keySha256)) throw new InputError(`${where}.keySha256 must be 64 lower-case hex digits`);
    return {
      name: parseStreamName(stream.name),
      playbackId: stream.playbackId,
      keySha256: stream.keySha256,
      playback: stream.playback === undefined ? 'public' : playbackOf(stream.playback),
      createdAt: isoTimeOf(stream.createdAt, `${where}.createdAt`),
      keyRotatedAt: isoTimeOf(stream.keyRotatedAt, `${where}.keyRotatedAt`),
    };
  });
}
