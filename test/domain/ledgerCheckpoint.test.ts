import { describe, expect, it } from '@jest/globals';
import { CHECKPOINT_FORMAT, formatCheckpointNote, noteStates, parseCheckpointNote } from '../../src/domain/ledgerCheckpoint.js';

const ROOT = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const body = { tenantId: 'tenant-a', treeSize: 12, rootHash: ROOT, timestamp: new Date('2026-12-01T08:00:00.120Z') };

describe('checkpoint note', () => {
  it('is five lines, each ending in a newline, and parses back', () => {
    const note = formatCheckpointNote(body);
    expect(note).toBe(`${CHECKPOINT_FORMAT}\ntenant-a\n12\n${ROOT}\n2026-12-01T08:00:00.120Z\n`);
    expect(parseCheckpointNote(note)).toEqual(body);
    expect(parseCheckpointNote(formatCheckpointNote({ ...body, treeSize: 0 }))?.treeSize).toBe(0);
  });

  it('refuses a tenant id with a line break', () => {
    expect(() => formatCheckpointNote({ ...body, tenantId: 'a\nb' })).toThrow('line break');
  });

  it.each([
    ['a missing final newline', (n: string) => n.slice(0, -1)],
    ['an extra line', (n: string) => `${n}x\n`],
    ['another format', (n: string) => n.replace(CHECKPOINT_FORMAT, 'other/v1')],
    ['an empty tenant', (n: string) => n.replace('tenant-a', '')],
    ['a carriage return in the tenant', (n: string) => n.replace('tenant-a', 'tenant-a\r')],
    ['a size with a leading zero', (n: string) => n.replace('\n12\n', '\n012\n')],
    ['a negative size', (n: string) => n.replace('\n12\n', '\n-1\n')],
    ['an unsafe size', (n: string) => n.replace('\n12\n', '\n9999999999999999\n')],
    ['an uppercase root', (n: string) => n.replace(ROOT, ROOT.toUpperCase())],
    ['a short root', (n: string) => n.replace(ROOT, ROOT.slice(2))],
    ['a timestamp without milliseconds', (n: string) => n.replace('08:00:00.120Z', '08:00:00Z')],
    ['an impossible date', (n: string) => n.replace('2026-12-01', '2026-02-31')],
  ])('refuses %s', (_name, change) => {
    expect(parseCheckpointNote(change(formatCheckpointNote(body)))).toBeNull();
  });
});

describe('export format dates', () => {
  it('tags Dates anywhere and reads them back', async () => {
    const { tagDates, untagDates } = await import('../../src/domain/ledgerExportFormat.js');
    const at = new Date('2026-12-01T08:00:00.000Z');
    const value = { at, list: [at, 1, 'x', null], nested: { deeper: { at } } };
    const tagged = tagDates(value);
    expect(JSON.parse(JSON.stringify(tagged))).toEqual({ at: { $date: at.toISOString() }, list: [{ $date: at.toISOString() }, 1, 'x', null], nested: { deeper: { at: { $date: at.toISOString() } } } });
    expect(untagDates(JSON.parse(JSON.stringify(tagged)))).toEqual(value);
    expect(untagDates({ $date: 1, other: 2 })).toEqual({ $date: 1, other: 2 });
  });

  it('says whether a note states exactly the fields a checkpoint claims', () => {
    const note = formatCheckpointNote(body);
    const claimed = { tenantId: 'tenant-a', treeSize: 12, rootHash: ROOT };
    expect(noteStates(note, claimed)).toBe(true);
    expect(noteStates(note, { ...claimed, timestamp: body.timestamp })).toBe(true);
    expect(noteStates(note, { ...claimed, timestamp: '2026-12-01T08:00:00.120Z' })).toBe(true);
    expect(noteStates(note, { ...claimed, timestamp: '2026-12-01T08:00:00.121Z' })).toBe(false);
    expect(noteStates(note, { ...claimed, tenantId: 'tenant-b' })).toBe(false);
    expect(noteStates(note, { ...claimed, treeSize: 13 })).toBe(false);
    expect(noteStates(note, { ...claimed, rootHash: ROOT.replace('e3', 'e4') })).toBe(false);
    expect(noteStates(`${note}x`, claimed)).toBe(false);
  });
});
