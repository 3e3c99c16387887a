/**
 * The live channel's framing, both ways: every valid part survives encode → decode exactly
 * (fuzzed), anything else is refused with a reason and never throws (fuzzed over random bytes
 * and mutated frames), and the lease request's names are checked.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  binaryFrameKind,
  decodeClientMessage,
  decodeDocumentFrame,
  decodeEdgeMessage,
  decodePartFrame,
  encodeDocumentHeader,
  encodeMessage,
  encodePartFrame,
  liveChannelPath,
  parseLeaseRequest,
  SKIPPED_REASON_MAX_LENGTH,
  type DocumentFrame,
  type PartFrame,
} from '../../shared/live-channel-protocol.ts';

const name = fc.stringMatching(/^[a-z0-9]{1,12}$/);
const session = fc.stringMatching(/^[a-z0-9]{8,24}$/);
const partFile = fc.tuple(session, fc.nat(1e9), fc.nat(99)).map(([s, t, i]) => `${s}-${t}.p${i}.m4s`);

const validPart: fc.Arbitrary<PartFrame> = fc.record({
  rendition: fc.oneof(fc.constant('source'), fc.constant('audio'), name.map((n) => `r${n}`)),
  file: partFile,
  contentType: fc.constantFrom('video/mp4', 'audio/mp4'),
  msn: fc.nat(2 ** 40),
  duration: fc.double({ min: 0.001, max: 10, noNaN: true }),
  independent: fc.boolean(),
  next: partFile,
  partTarget: fc.double({ min: 0.05, max: 5, noNaN: true }),
  bytes: fc.uint8Array({ minLength: 1, maxLength: 4000 }),
});

describe('live channel part frames', () => {
  it('decode what was encoded, field for field and byte for byte', () => {
    fc.assert(
      fc.property(validPart, (part) => {
        const decoded = decodePartFrame(encodePartFrame(part));
        expect(decoded).toEqual({ ok: true, value: { ...part, bytes: new Uint8Array(part.bytes) } });
      }),
      { numRuns: 500 },
    );
  });

  it('decode a frame that is a view into a larger buffer (as WebSocket libraries hand them)', () => {
    const part: PartFrame = { rendition: 'source', file: 'abcdef12-0.p0.m4s', contentType: 'video/mp4', msn: 3, duration: 0.333, independent: true, next: 'abcdef12-0.p1.m4s', partTarget: 0.334, bytes: new Uint8Array([1, 2, 3]) };
    const frame = encodePartFrame(part);
    const padded = new Uint8Array(frame.byteLength + 20);
    padded.set(frame, 7);
    const decoded = decodePartFrame(padded.subarray(7, 7 + frame.byteLength));
    expect(decoded.ok && [...decoded.value.bytes]).toEqual([1, 2, 3]);
    // A view into a shared buffer is copied out: the live state keeps parts for seconds.
    expect(decoded.ok && decoded.value.bytes.buffer).not.toBe(padded.buffer);
  });

  it('give the part a view of a frame whose buffer is handed over (ownBuffer), with no copy', () => {
    const part: PartFrame = { rendition: 'source', file: 'abcdef12-0.p0.m4s', contentType: 'video/mp4', msn: 3, duration: 0.333, independent: true, next: 'abcdef12-0.p1.m4s', partTarget: 0.334, bytes: new Uint8Array([4, 5, 6, 7]) };
    const frame = encodePartFrame(part);
    const decoded = decodePartFrame(frame, { ownBuffer: true });
    expect(decoded.ok && [...decoded.value.bytes]).toEqual([4, 5, 6, 7]);
    expect(decoded.ok && decoded.value.bytes.buffer).toBe(frame.buffer);
  });

  it('refuse random bytes and mutated frames with a reason, never a throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const decoded = decodePartFrame(bytes);
        if (!decoded.ok) expect(decoded.reason).toMatch(/\w/);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(validPart, fc.nat(), fc.integer({ min: 0, max: 255 }), (part, at, value) => {
        const frame = encodePartFrame(part);
        frame[at % frame.byteLength] = value;
        const decoded = decodePartFrame(frame);
        // A mutation inside the media bytes is still a valid part; a header mutation is refused or still valid.
        if (!decoded.ok) expect(decoded.reason).toMatch(/\w/);
      }),
      { numRuns: 1000 },
    );
  });

  it.each([
    [{ rendition: '../x' }, 'rendition/file'],
    [{ file: 'index.m3u8' }, 'rendition/file'],
    [{ contentType: 'text/html' }, 'contentType'],
    [{ msn: -1 }, 'msn'],
    [{ msn: 1.5 }, 'msn'],
    [{ duration: 0 }, 'duration'],
    [{ duration: 11 }, 'duration'],
    [{ next: 'seg.m4s' }, 'next'],
    [{ partTarget: 0.01 }, 'partTarget'],
    [{ bytes: new Uint8Array(0) }, 'bytes'],
  ])('refuse a part with %o, naming %s', (change, field) => {
    const part: PartFrame = { rendition: 'source', file: 'abcdef12-0.p0.m4s', contentType: 'video/mp4', msn: 3, duration: 0.333, independent: true, next: 'abcdef12-0.p1.m4s', partTarget: 0.334, bytes: new Uint8Array([1]) };
    const decoded = decodePartFrame(encodePartFrame({ ...part, ...change } as PartFrame));
    expect(decoded.ok).toBe(false);
    expect(!decoded.ok && decoded.reason).toContain(field);
  });
});

describe('live channel messages', () => {
  it('read back what each side sends', () => {
    for (const message of [
      { type: 'heartbeat' },
      { type: 'release' },
      { type: 'skipped', rendition: 'audio', file: 'abcdef12-0.p3.m4s' },
      { type: 'skipped', rendition: 'audio', file: 'abcdef12-0.p3.m4s', reason: 'storage is a segment or more behind' },
    ] as const) {
      expect(decodeClientMessage(encodeMessage(message))).toEqual({ ok: true, value: message });
    }
    for (const message of [{ type: 'heartbeat' }, { type: 'lease', ttlMs: 6000 }, { type: 'refused', reason: 'held' }] as const) {
      expect(decodeEdgeMessage(encodeMessage(message))).toEqual({ ok: true, value: message });
    }
  });

  it('refuse anything else with a reason, never a throw', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        for (const decoded of [decodeClientMessage(text), decodeEdgeMessage(text)]) if (!decoded.ok) expect(decoded.reason).toMatch(/\w/);
      }),
      { numRuns: 1000 },
    );
    expect(decodeClientMessage('{"type":"skipped","rendition":"a/b","file":"x"}').ok).toBe(false);
  });

  it("refuse a skipped part's reason that is not a sentence of text, and take one from a sidecar that sends none", () => {
    const skipped = { type: 'skipped', rendition: 'audio', file: 'abcdef12-0.p3.m4s' };
    for (const reason of [7, '', 'x'.repeat(SKIPPED_REASON_MAX_LENGTH + 1), null, ['behind']]) {
      const decoded = decodeClientMessage(JSON.stringify({ ...skipped, reason }));
      expect(!decoded.ok && decoded.reason, JSON.stringify(reason)).toContain('reason');
    }
    expect(decodeClientMessage(JSON.stringify({ ...skipped, reason: 'x'.repeat(SKIPPED_REASON_MAX_LENGTH) })).ok).toBe(true);
    // An older sidecar's message (no reason) reads as it always did.
    expect(decodeClientMessage(JSON.stringify(skipped))).toEqual({ ok: true, value: skipped });
  });
});

describe('lease request', () => {
  it('is read from the channel path it was written into', () => {
    const path = liveChannelPath('colors', { sidecar: 'sc-1', broadcast: 'b_2' });
    expect(parseLeaseRequest(new URL(path, 'http://edge'))).toEqual({ ok: true, lease: { sidecar: 'sc-1', broadcast: 'b_2' } });
    // With the stream's reconnect window (the edge ends the broadcast once its holder is gone for longer).
    for (const reconnectWindowMs of [0, 30_000, 3_600_000]) {
      const withWindow = liveChannelPath('colors', { sidecar: 'sc-1', broadcast: 'b_2', reconnectWindowMs });
      expect(parseLeaseRequest(new URL(withWindow, 'http://edge'))).toEqual({ ok: true, lease: { sidecar: 'sc-1', broadcast: 'b_2', reconnectWindowMs } });
    }
  });

  it.each(['?sidecar=a', '?broadcast=b', '?sidecar=a%20b&broadcast=c', `?sidecar=${'a'.repeat(65)}&broadcast=b`, '?sidecar=a&broadcast=b&window=', '?sidecar=a&broadcast=b&window=-1', '?sidecar=a&broadcast=b&window=1.5', '?sidecar=a&broadcast=b&window=3600001'])('refuses %s', (query) => {
    expect(parseLeaseRequest(new URL(`/_ingest/live/colors${query}`, 'http://edge')).ok).toBe(false);
  });
});

describe('a segment named by its parts, and the answers', () => {
  const segment = { type: 'segment' as const, rendition: 'source', file: 'abcsess1-360000.m4s', parts: ['abcsess1-360000.p0.m4s', 'abcsess1-360000.p1.m4s'], byteLength: 4096, contentType: 'video/mp4' };

  it('read back what each side sends', () => {
    expect(decodeClientMessage(encodeMessage(segment))).toEqual({ ok: true, value: segment });
    for (const answer of [
      { type: 'stored' as const, rendition: 'audio', file: 'abcsess1-0.m4s' },
      { type: 'not-stored' as const, rendition: 'source', file: 'abcsess1-360000.m4s', reason: 'part source/abcsess1-360000.p1.m4s is not held here' },
    ]) expect(decodeEdgeMessage(encodeMessage(answer))).toEqual({ ok: true, value: answer });
  });

  it.each([
    { name: 'an unknown field', change: { extra: 1 } },
    { name: 'a field left out', change: { byteLength: undefined } },
    { name: 'a part of another segment', change: { parts: ['abcsess1-360000.p0.m4s', 'abcsess1-0.p1.m4s'] } },
    { name: 'parts out of order', change: { parts: ['abcsess1-360000.p1.m4s', 'abcsess1-360000.p0.m4s'] } },
    { name: 'parts not from .p0', change: { parts: ['abcsess1-360000.p1.m4s'] } },
    { name: 'no parts', change: { parts: [] } },
    { name: 'parts that are not a list', change: { parts: 'abcsess1-360000.p0.m4s' } },
    { name: 'a part file that is not a name', change: { parts: [7] } },
    { name: 'a file that is a part, not a segment', change: { file: 'abcsess1-360000.p0.m4s' } },
    { name: 'a file outside the rendition', change: { file: '../abcsess1-360000.m4s' } },
    { name: 'a rendition outside the stream', change: { rendition: '..' } },
    { name: 'a byte length of 0', change: { byteLength: 0 } },
    { name: 'a fractional byte length', change: { byteLength: 1.5 } },
    { name: 'a byte length as text', change: { byteLength: '4096' } },
    { name: 'a content type the channel does not carry', change: { contentType: 'text/html' } },
  ])('refuse a segment with $name', ({ change }) => {
    const decoded = decodeClientMessage(JSON.stringify({ ...segment, ...change }));
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.reason).toMatch(/segment/);
  });

  it.each([
    { name: 'stored with an unknown field', message: { type: 'stored', rendition: 'source', file: 'abcsess1-0.m4s', reason: 'x' } },
    { name: 'stored naming a part', message: { type: 'stored', rendition: 'source', file: 'abcsess1-0.p0.m4s' } },
    { name: 'not-stored without a reason', message: { type: 'not-stored', rendition: 'source', file: 'abcsess1-0.m4s' } },
    { name: 'not-stored with an empty reason', message: { type: 'not-stored', rendition: 'source', file: 'abcsess1-0.m4s', reason: '' } },
    { name: 'not-stored outside the stream', message: { type: 'not-stored', rendition: '..', file: 'abcsess1-0.m4s', reason: 'no' } },
  ])('refuse an answer: $name', ({ message }) => {
    expect(decodeEdgeMessage(JSON.stringify(message)).ok).toBe(false);
  });
});

describe('live channel document frames', () => {
  const documentFrame = (header: object, body: Uint8Array) => {
    const json = new TextEncoder().encode(JSON.stringify(header));
    const frame = new Uint8Array(3 + json.byteLength + body.byteLength);
    frame[0] = 2;
    new DataView(frame.buffer).setUint16(1, json.byteLength);
    frame.set(json, 3);
    frame.set(body, 3 + json.byteLength);
    return frame;
  };
  const encoded = (document: DocumentFrame) => {
    const header = encodeDocumentHeader(document);
    const frame = new Uint8Array(header.byteLength + document.bytes.byteLength);
    frame.set(header);
    frame.set(document.bytes, header.byteLength);
    return frame;
  };
  const validDocument: fc.Arbitrary<DocumentFrame> = fc.oneof(
    fc.record({ path: fc.constant('index.m3u8'), contentType: fc.constant('application/vnd.apple.mpegurl') }),
    fc.record({ path: name.map((n) => `r${n}/index.m3u8`), contentType: fc.constant('application/vnd.apple.mpegurl') }),
    fc.record({ path: fc.constant('manifest.mpd'), contentType: fc.constant('application/dash+xml') }),
    fc.record({ path: fc.constant('status.json'), contentType: fc.constant('application/json') }),
  ).chain((named) => fc.record({ id: fc.nat(2 ** 40), bytes: fc.uint8Array({ minLength: 1, maxLength: 4000 }) }).map((rest) => ({ ...named, ...rest })));

  it('decode what was encoded, and know it from a part frame', () => {
    fc.assert(
      fc.property(validDocument, (document) => {
        const frame = encoded(document);
        expect(binaryFrameKind(frame)).toBe('document');
        const decoded = decodeDocumentFrame(frame);
        expect(decoded.ok && { ...decoded.value, bytes: [...decoded.value.bytes] }).toEqual({ ...document, bytes: [...document.bytes] });
        expect(decodePartFrame(frame)).toMatchObject({ ok: false });
      }),
    );
  });

  it('refuse anything but a stream document with its own content type, inside the stream', () => {
    const body = new TextEncoder().encode('#EXTM3U\n');
    const refused = (header: object, bytes = body) => {
      const decoded = decodeDocumentFrame(documentFrame(header, bytes));
      return decoded.ok ? 'accepted' : decoded.reason;
    };
    const playlist = 'application/vnd.apple.mpegurl';
    expect(refused({ id: 1, path: 'source/index.m3u8', contentType: playlist })).toBe('accepted');
    for (const path of ['../other/index.m3u8', 'source/../../x/index.m3u8', 'source/s1-0.m4s', 'source/s1-0.p0.m4s', 'thumbnail.jpg', '/index.m3u8', 'a/b/index.m3u8', '']) {
      expect(refused({ id: 1, path, contentType: playlist })).toMatch(/path must name a playlist/);
    }
    expect(refused({ id: 1, path: 'status.json', contentType: playlist })).toMatch(/content type for status must be application\/json/);
    expect(refused({ id: -1, path: 'index.m3u8', contentType: playlist })).toMatch(/id must be/);
    expect(refused({ id: 1.5, path: 'index.m3u8', contentType: playlist })).toMatch(/id must be/);
    expect(refused({ id: 1, path: 'index.m3u8', contentType: playlist, extra: true })).toMatch(/exactly the fields/);
    expect(refused({ id: 1, path: 'index.m3u8', contentType: playlist }, new Uint8Array(0))).toMatch(/has bytes/);
    expect(refused([1, 2])).toMatch(/exactly the fields/);
  });

  it('never throw on random or cut frames', () => {
    fc.assert(
      fc.property(validDocument, fc.nat(), fc.uint8Array({ maxLength: 200 }), (document, cut, noise) => {
        const frame = encoded(document);
        expect(() => decodeDocumentFrame(frame.subarray(0, cut % (frame.byteLength + 1)))).not.toThrow();
        expect(() => decodeDocumentFrame(Uint8Array.of(2, ...noise))).not.toThrow();
      }),
    );
  });

  it('are answered written or not-written by id, and nothing else passes', () => {
    expect(decodeEdgeMessage(encodeMessage({ type: 'written', id: 7 }))).toEqual({ ok: true, value: { type: 'written', id: 7 } });
    expect(decodeEdgeMessage(encodeMessage({ type: 'not-written', id: 7, reason: 'storage refused it' }))).toEqual({ ok: true, value: { type: 'not-written', id: 7, reason: 'storage refused it' } });
    expect(decodeEdgeMessage(JSON.stringify({ type: 'written', id: 'x' })).ok).toBe(false);
    expect(decodeEdgeMessage(JSON.stringify({ type: 'written', id: 1, path: 'index.m3u8' })).ok).toBe(false);
    expect(decodeEdgeMessage(JSON.stringify({ type: 'not-written', id: 1 })).ok).toBe(false);
    expect(decodeEdgeMessage(JSON.stringify({ type: 'not-written', id: 1, reason: '' })).ok).toBe(false);
  });
});
