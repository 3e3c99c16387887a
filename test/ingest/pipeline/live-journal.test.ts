import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LiveJournal } from '../../../ingest/pipeline/live-journal.ts';

describe("the sidecar's journal of open streams", () => {
  it('records a stream under its name and reads it back after a restart', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'journal-')), 'live-streams.json');
    new LiveJournal(path).record('k3x9vipstream', 'vip', { playback: 'signed', keyed: true });
    expect(new LiveJournal(path).list()).toEqual([expect.objectContaining({ playbackId: 'k3x9vipstream', name: 'vip', playback: 'signed', keyed: true })]);
    expect(readFileSync(path, 'utf8')).not.toContain('label');
    expect(readFileSync(path, 'utf8')).not.toContain('streamId');
  });

  it('takes up a journal written before entries had a name (their label), so streams open across the upgrade continue', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'journal-')), 'live-streams.json');
    writeFileSync(path, JSON.stringify([{ streamId: 'colors', label: 'colors', since: '2026-12-06T05:00:00.000Z', keyed: false }]));
    expect(new LiveJournal(path).list()).toEqual([expect.objectContaining({ playbackId: 'colors', name: 'colors', keyed: false })]);
  });

  it('takes up a journal written before the public id was called playbackId (its streamId)', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'journal-')), 'live-streams.json');
    writeFileSync(path, JSON.stringify([{ streamId: 'k3x9vipstream', name: 'vip', since: '2026-12-06T05:00:00.000Z', keyed: true }]));
    expect(new LiveJournal(path).list()).toEqual([expect.objectContaining({ playbackId: 'k3x9vipstream', name: 'vip', keyed: true })]);
  });

  it('leaves out an entry without a name of either kind', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'journal-')), 'live-streams.json');
    writeFileSync(path, JSON.stringify([{ playbackId: 'colors', since: '2026-12-06T05:00:00.000Z' }]));
    expect(new LiveJournal(path).list()).toEqual([]);
  });
});
