import { describe, expect, it } from 'vitest';

import { scheduleCode } from '../src/models/scheduleMagic';

describe('scheduleCode', () => {
  it.each([
    [{ when: '0 6 * * 1-5', kind: 'cron', timeZone: 'Europe/Berlin' },
     '%load_ext jupyter_flows\n%flow schedule --cron "0 6 * * 1-5" --tz Europe/Berlin'],
    [{ when: '  */15   * * * * ', kind: 'cron', timeZone: '' },
     '%load_ext jupyter_flows\n%flow schedule --cron "*/15 * * * *"'],
    [{ when: '15m', kind: 'every', timeZone: 'UTC' },
     '%load_ext jupyter_flows\n%flow schedule --every 15m --tz UTC']
  ] as const)('%j', (choice, code) => {
    expect(scheduleCode(choice)).toEqual({ code, error: null });
  });

  it.each([
    [{ when: '', kind: 'cron', timeZone: '' }, 'give a cron expression'],
    [{ when: '0 6 * *', kind: 'cron', timeZone: '' }, 'expected 5 fields'],
    [{ when: '0 6 * * 1"; import os', kind: 'cron', timeZone: '' }, 'unexpected characters'],
    [{ when: '15m', kind: 'every', timeZone: 'Europe/Berlin; rm' }, 'time zone: expected a name']
  ] as const)('refuses %j', (choice, message) => {
    const result = scheduleCode(choice);
    expect(result.code).toBeNull();
    expect(result.error).toContain(message);
  });
});
