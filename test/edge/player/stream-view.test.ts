import { describe, expect, it } from 'vitest';
import { playedOut } from '../../../edge/player/client/playhead.ts';
import { shouldPlayRecording, streamBadge, streamDisplay, streamViewOf, streamViewText, withPageToken, type StreamView } from '../../../edge/player/client/stream-view.ts';

const recording = (state: string) => ({ id: 'r1', state, hls: '/recordings/colors/r1/index.m3u8', dash: '/recordings/colors/r1/manifest.mpd', mp4: '/recordings/colors/r1.mp4' });

describe('what the player page says of a stream', () => {
  it.each([
    { name: 'no status document (404)', status: undefined, kind: 'not-live', badge: 'OFFLINE', text: 'Not live yet.' },
    { name: 'a stream starting', status: { state: 'starting' }, kind: 'starting', badge: 'STARTING', text: 'The stream is starting…' },
    { name: 'a live stream', status: { state: 'live', recording: recording('recording') }, kind: 'live', badge: 'LIVE', text: 'Live' },
    { name: 'a publisher gone inside the reconnect window', status: { state: 'reconnecting' }, kind: 'reconnecting', badge: 'RECONNECTING', text: "The streamer's connection dropped; waiting for it to come back…" },
    { name: 'an ended stream without a recording', status: { state: 'ended' }, kind: 'ended', badge: 'ENDED', text: 'The stream has ended.' },
    { name: 'an ended stream whose recording is not complete', status: { state: 'ended', recording: recording('recording') }, kind: 'recording-pending', badge: 'ENDED', text: 'The stream has ended. Its recording will be ready in a moment…' },
    { name: 'an ended stream with its recording ready', status: { state: 'ended', recording: recording('ready') }, kind: 'recording', badge: 'RECORDING', text: 'The stream has ended. This is its recording, from the start.' },
    { name: 'an ended stream whose recording field is not one', status: { state: 'ended', recording: { id: 'r1', state: 'ready', hls: 7 } }, kind: 'ended', badge: 'ENDED', text: 'The stream has ended.' },
  ])('$name: $badge', ({ status, kind, badge, text }) => {
    const view = streamViewOf(status);
    expect(view?.kind).toBe(kind);
    expect(streamBadge(view!.kind)).toBe(badge);
    expect(streamViewText(view!.kind)).toBe(text);
  });

  it('says ENDED, recording next, while the page is still on the live stream (its last seconds, or paused in them)', () => {
    const view = streamViewOf({ state: 'ended', recording: recording('ready') })!;
    expect(streamDisplay(view, false)).toBe('recording-next');
    expect(streamBadge('recording-next')).toBe('ENDED');
    expect(streamViewText('recording-next')).toBe('The stream has ended. Its recording plays next, from the start.');
    expect(streamDisplay(view, true)).toBe('recording');
    expect(streamDisplay({ kind: 'live' }, false)).toBe('live');
  });

  it('keeps the recording links of an ended stream', () => {
    expect(streamViewOf({ state: 'ended', recording: recording('ready') })).toEqual({ kind: 'recording', recording: recording('ready') });
  });

  it.each([{ status: { state: 'paused' } }, { status: null }, { status: 'live' }])('says nothing of a document it does not understand: $status', ({ status }) => {
    expect(streamViewOf(status)).toBeUndefined();
  });

  it.each([
    { name: 'no token', url: '/recordings/a/r1/index.m3u8', query: '?format=dash', expected: '/recordings/a/r1/index.m3u8' },
    { name: 'the page token', url: '/recordings/a/r1/index.m3u8', query: '?token=a.b%2Bc', expected: '/recordings/a/r1/index.m3u8?token=a.b%2Bc' },
    { name: 'a URL with a query of its own', url: '/recordings/a/r1.mp4?download=1', query: '?token=t', expected: '/recordings/a/r1.mp4?download=1&token=t' },
  ])('fetches a recording with $name', ({ url, query, expected }) => {
    expect(withPageToken(url, query)).toBe(expected);
  });
});

describe('when the page leaves the live stream for its recording', () => {
  const ready: StreamView = { kind: 'recording', recording: recording('ready') as never };
  it.each([
    { name: 'opened after the end (nothing played)', view: ready, playback: { playing: false, ended: false, onRecording: false }, expected: true },
    { name: 'the live stream played to its end', view: ready, playback: { playing: true, ended: true, onRecording: false }, expected: true },
    { name: 'the last live seconds still playing', view: ready, playback: { playing: true, ended: false, onRecording: false }, expected: false },
    { name: 'already on the recording', view: ready, playback: { playing: false, ended: false, onRecording: true }, expected: false },
    { name: 'the recording not ready', view: { kind: 'recording-pending', recording: recording('recording') } as StreamView, playback: { playing: false, ended: false, onRecording: false }, expected: false },
    { name: 'a live stream', view: { kind: 'live' } as StreamView, playback: { playing: false, ended: false, onRecording: false }, expected: false },
  ])('$name: $expected', ({ view, playback, expected }) => {
    expect(shouldPlayRecording(view, playback)).toBe(expected);
  });
});

describe('when an ended live stream has played out on the page', () => {
  it.each([
    { name: 'the video ended', video: { ended: true, paused: true, currentTime: 30 }, ahead: 0, previous: 12, expected: true },
    { name: 'stuck at the end of the buffer (one track longer than the other)', video: { ended: false, paused: false, currentTime: 22.433 }, ahead: 0, previous: 22.433, expected: true },
    { name: 'still playing its last seconds', video: { ended: false, paused: false, currentTime: 21 }, ahead: 1.4, previous: 18, expected: false },
    { name: 'waiting at the end, but moved since the last look', video: { ended: false, paused: false, currentTime: 22.433 }, ahead: 0, previous: 20, expected: false },
    { name: 'paused by the viewer', video: { ended: false, paused: true, currentTime: 22.433 }, ahead: 0, previous: 22.433, expected: false },
    { name: 'never looked before', video: { ended: false, paused: false, currentTime: 0 }, ahead: 0, previous: NaN, expected: false },
  ])('$name: $expected', ({ video, ahead, previous, expected }) => {
    expect(playedOut(video, ahead, previous)).toBe(expected);
  });
});
