import { describe, expect, it } from 'vitest';

import { configRows, configType, formatAgo, formatDuration, formatWhen, parseTime, shortId } from '../src/models/format';

describe('parseTime', () => {
  it('reads UTC with or without a zone', () => {
    expect(parseTime('2026-01-01T00:00:01Z')).toBe(Date.UTC(2026, 0, 1, 0, 0, 1));
    expect(parseTime('2026-01-01T00:00:01')).toBe(Date.UTC(2026, 0, 1, 0, 0, 1));
    expect(parseTime('2026-01-01T01:00:01+01:00')).toBe(Date.UTC(2026, 0, 1, 0, 0, 1));
    expect(parseTime(null)).toBeNull();
    expect(parseTime('not a time')).toBeNull();
  });
});

describe('formatDuration', () => {
  it.each<[number | null, string]>([
    [null, '—'],
    [-5, '—'],
    [850, '850 ms'],
    [3200, '3.2 s'],
    [42_000, '42 s'],
    [125_000, '2 min 5 s'],
    [3_780_000, '1 h 3 min']
  ])('%s ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('formatAgo', () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);
  it.each<[string | null, string]>([
    ['2026-01-01T12:00:00Z', 'just now'],
    ['2026-01-01T11:59:48Z', '12 s ago'],
    ['2026-01-01T11:55:00Z', '5 min ago'],
    ['2026-01-01T09:00:00Z', '3 h ago'],
    ['2025-12-24T09:00:00Z', '2025-12-24'],
    [null, 'never']
  ])('%s', (iso, text) => {
    expect(formatAgo(iso, now)).toBe(text);
  });
});

describe('configRows', () => {
  it('flattens a run config into dotted keys, masked secrets as they came', () => {
    expect(configRows({
      type: 'kubernetes',
      env: { API_KEY: '********', MODE: 'test' },
      labels: [],
      cpu_request: null,
      image_pull_secrets: ['a', 'b'],
      volumes: [{ name: 'data' }]
    })).toEqual([
      ['type', 'kubernetes'],
      ['env.API_KEY', '********'],
      ['env.MODE', 'test'],
      ['labels', '(none)'],
      ['cpu_request', '—'],
      ['image_pull_secrets', 'a, b'],
      ['volumes[0].name', 'data']
    ]);
  });

  it('gives no rows for an empty config', () => {
    expect(configRows({})).toEqual([]);
    expect(configRows(null)).toEqual([]);
  });

  it('names the type or a fallback', () => {
    expect(configType({ type: 'dask' })).toBe('dask');
    expect(configType({})).toBe('default');
    expect(configType(undefined, 'none')).toBe('none');
    expect(shortId('0123456789abcdef')).toBe('01234567');
  });
});

describe('formatWhen', () => {
  it('gives the weekday, date and time in the local zone', () => {
    const local = new Date(2026, 11, 2, 6, 5); // a Wednesday, 06:05 here
    expect(formatWhen(local.toISOString())).toBe('Wed 12-02 06:05');
    expect(formatWhen(null)).toBe('');
  });
});
