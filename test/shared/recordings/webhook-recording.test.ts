import { describe, expect, it } from 'vitest';
import { parseWebhookRecording, WEBHOOK_EVENT_TYPES } from '../../../shared/webhooks.ts';

const RECORDING = { id: 'r00000000xyz', startedAt: '2026-12-06T09:00:00.000Z', endedAt: '2026-12-06T09:10:00.000Z', durationSeconds: 600.5, bytes: 123_456 };

describe('stream.recording.ready', () => {
  it('is an event type, and its recording reads back as the sidecar reports it (URLs are the edge\'s to add)', () => {
    expect(WEBHOOK_EVENT_TYPES).toContain('stream.recording.ready');
    expect(parseWebhookRecording(JSON.parse(JSON.stringify(RECORDING)))).toEqual(RECORDING);
    expect(parseWebhookRecording({ ...RECORDING, urls: { hls: 'https://evil.example/' } })).toEqual(RECORDING);
  });

  it.each([
    { name: 'a recording id that is a path', value: { ...RECORDING, id: '../x' } },
    { name: 'no end', value: { ...RECORDING, endedAt: undefined } },
    { name: 'negative bytes', value: { ...RECORDING, bytes: -1 } },
    { name: 'a duration as text', value: { ...RECORDING, durationSeconds: '600' } },
    { name: 'nothing', value: null },
  ])('refuses $name', ({ value }) => {
    expect(parseWebhookRecording(value)).toBeUndefined();
  });
});
