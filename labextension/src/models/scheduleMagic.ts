/**
 * "Schedule notebook as flow": the `%flow schedule` line the dialog's choices make, checked
 * before it goes to the kernel (which checks the cron expression and the zone itself).
 */

export interface ScheduleChoice {
  /** A cron expression (five fields) or an interval such as `15m`, as `kind` says. */
  when: string;
  kind: 'cron' | 'every';
  /** An IANA zone name; empty for UTC. */
  timeZone: string;
}

export interface ScheduleCode {
  code: string | null;
  error: string | null;
}

const SAFE = /^[A-Za-z0-9*/,\-_ +:]+$/;

/** The code to run in the notebook's kernel, or why the choice cannot be used. */
export function scheduleCode(choice: ScheduleChoice): ScheduleCode {
  const when = choice.when.trim().replace(/\s+/g, ' ');
  const zone = choice.timeZone.trim();
  if (!when) {
    return { code: null, error: choice.kind === 'cron'
      ? 'give a cron expression, e.g. 0 6 * * 1-5 (06:00 on weekdays)'
      : 'give an interval, e.g. 15m, 2h or 1d' };
  }
  if (!SAFE.test(when)) {
    return { code: null, error: `${choice.kind === 'cron' ? 'cron expression' : 'interval'}: ` +
      `unexpected characters in ${JSON.stringify(when)}` };
  }
  if (choice.kind === 'cron' && when.split(' ').length !== 5) {
    return { code: null, error: `cron expression: expected 5 fields (minute hour day month weekday), ` +
      `got ${when.split(' ').length} in "${when}"` };
  }
  if (zone && !/^[A-Za-z0-9_+\-/]+$/.test(zone)) {
    return { code: null, error: `time zone: expected a name like Europe/Berlin, got ${JSON.stringify(zone)}` };
  }
  const option = choice.kind === 'cron' ? `--cron "${when}"` : `--every ${when}`;
  return { code: `%load_ext jupyter_flows\n%flow schedule ${option}${zone ? ` --tz ${zone}` : ''}`, error: null };
}
