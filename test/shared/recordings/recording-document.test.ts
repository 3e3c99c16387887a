import { describe, expect, it } from 'vitest';
import { isRecordingId, newRecordingId, parseRecordingDocument, recordingDocumentKey, type RecordingDocument } from '../../../shared/recordings/recording-document.ts';
import { parseRecordingObjectKey, recordingObjectKey, recordingUrls } from '../../../shared/recordings/recording-layout.ts';

const VALID: RecordingDocument = {
  version: 1,
  playbackId: 'abc',
  recordingId: 'r00000000xyz',
  state: 'ready',
  startedAt: '2026-12-06T09:00:00.000Z',
  endedAt: '2026-12-06T09:10:00.000Z',
  durationSeconds: 4,
  bytes: 1200,
  renditions: [
    {
      name: 'source',
      kind: 'video',
      codecs: 'avc1.64001f',
      width: 1280,
      height: 720,
      bandwidth: 900_000,
      initKey: 'streams/abc/source/init-sessiona1.mp4',
      segments: [
        { key: 'streams/abc/source/sessiona1-0.m4s', durationSeconds: 2, bytes: 500 },
        { key: 'streams/abc/source/sessionb2-0.m4s', durationSeconds: 2, bytes: 500, initKey: 'streams/abc/source/init-sessionb2.mp4' },
      ],
    },
  ],
};

/** VALID with one change made by `edit` (on a deep copy). */
function changed(edit: (document: any) => void): unknown {
  // `any`: the cases put wrong types where the document's type forbids them, on purpose.
  const copy = structuredClone(VALID) as any;
  edit(copy);
  return copy;
}

describe('parseRecordingDocument', () => {
  it('reads a valid document as it is', () => {
    expect(parseRecordingDocument(structuredClone(VALID))).toEqual({ ok: true, recording: VALID });
  });

  const refusals: { name: string; input: unknown; reason: RegExp }[] = [
    { name: 'not an object', input: [1], reason: /not a JSON object/ },
    { name: 'another version', input: changed((d) => (d.version = 2)), reason: /version/ },
    { name: 'a playback id with a slash', input: changed((d) => (d.playbackId = 'a/b')), reason: /playbackId/ },
    { name: 'a recording id that is a path', input: changed((d) => (d.recordingId = '../x')), reason: /recordingId/ },
    { name: 'an unknown state', input: changed((d) => (d.state = 'done')), reason: /state/ },
    { name: 'ready without an end', input: changed((d) => delete d.endedAt), reason: /endedAt/ },
    { name: 'a start that is no time', input: changed((d) => (d.startedAt = 'yesterday')), reason: /startedAt/ },
    { name: 'negative bytes', input: changed((d) => (d.bytes = -1)), reason: /bytes/ },
    { name: 'fractional bytes', input: changed((d) => (d.bytes = 1.5)), reason: /bytes/ },
    { name: 'a segment of another stream', input: changed((d) => (d.renditions[0].segments[0].key = 'streams/other/source/sessiona1-0.m4s')), reason: /segments\[0\]\.key/ },
    { name: 'a segment outside any stream', input: changed((d) => (d.renditions[0].segments[0].key = 'secrets/keys.json')), reason: /segments\[0\]\.key/ },
    { name: 'a segment of another rendition', input: changed((d) => (d.renditions[0].segments[1].key = 'streams/abc/audio/sessiona1-0.m4s')), reason: /segments\[1\]\.key/ },
    { name: 'an init key that is a playlist', input: changed((d) => (d.renditions[0].initKey = 'streams/abc/source/index.m3u8')), reason: /initKey/ },
    { name: "a segment's init of another stream", input: changed((d) => (d.renditions[0].segments[1].initKey = 'streams/zzz/source/init-sessionb2.mp4')), reason: /segments\[1\]\.initKey/ },
    { name: 'a rendition listed twice', input: changed((d) => d.renditions.push(structuredClone(d.renditions[0]))), reason: /twice/ },
    { name: 'an unknown kind', input: changed((d) => (d.renditions[0].kind = 'text')), reason: /kind/ },
    { name: 'a picture size of zero', input: changed((d) => (d.renditions[0].width = 0)), reason: /width/ },
    { name: 'a duration that is not a number', input: changed((d) => (d.renditions[0].segments[0].durationSeconds = '2')), reason: /durationSeconds/ },
  ];
  for (const { name, input, reason } of refusals) {
    it(`refuses ${name}, saying why`, () => {
      const parsed = parseRecordingDocument(input);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.reason).toMatch(reason);
    });
  }
});

describe('recording ids and keys', () => {
  it('new ids are valid, unique, and sort by start time', () => {
    const early = newRecordingId(Date.parse('2026-12-06T09:00:00Z'));
    const late = newRecordingId(Date.parse('2026-12-06T10:00:00Z'));
    expect(isRecordingId(early) && isRecordingId(late)).toBe(true);
    expect(early < late).toBe(true);
    expect(newRecordingId(0)).not.toBe(newRecordingId(0));
  });

  it('keys stay in the stream prefix and parse back; anything else does not parse', () => {
    expect(recordingDocumentKey('abc', 'r00000000xyz')).toBe('streams/abc/recordings/r00000000xyz/recording.json');
    const key = recordingObjectKey('abc', 'r00000000xyz', { kind: 'recording-media-playlist', rendition: 'source' });
    expect(key).toBe('streams/abc/recordings/r00000000xyz/source/index.m3u8');
    expect(parseRecordingObjectKey(key)).toEqual({ playbackId: 'abc', recordingId: 'r00000000xyz', ref: { kind: 'recording-media-playlist', rendition: 'source' } });
    for (const bad of ['streams/abc/recordings/r00000000xyz/../x.json', 'streams/abc/recordings/nope/recording.json', 'streams/abc/other/r00000000xyz/index.m3u8', 'streams/abc/recordings/r00000000xyz/source/seg.m4s']) {
      expect(parseRecordingObjectKey(bad)).toBeNull();
    }
    expect(() => recordingDocumentKey('abc', '../../x')).toThrow(/invalid recording id/);
  });

  it('URLs: HLS, DASH and MP4 under /recordings/ID/RID', () => {
    expect(recordingUrls('abc', 'r00000000xyz')).toEqual({ hls: '/recordings/abc/r00000000xyz/index.m3u8', dash: '/recordings/abc/r00000000xyz/manifest.mpd', mp4: '/recordings/abc/r00000000xyz.mp4' });
  });
});
