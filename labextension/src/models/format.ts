/**
 * Text for the UI: durations, times, and configs as readable key/value rows.
 */
import type { JSONValue } from '../types';

/** Milliseconds since the epoch of a backend timestamp (UTC, even without a zone). */
export function parseTime(iso: string | null | undefined): number | null {
  if (!iso) {
    return null;
  }
  const zoned = /(Z|[+-]\d\d:?\d\d)$/.test(iso) ? iso : `${iso}Z`;
  const ms = Date.parse(zoned);
  return Number.isNaN(ms) ? null : ms;
}

/** "850 ms", "3.2 s", "2 min 5 s", "1 h 3 min". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) {
    return '—';
  }
  if (ms < 1000) {
    return `${Math.round(ms)} ms`;
  }
  const seconds = ms / 1000;
  if (seconds < 60) {
    return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return `${minutes} min ${Math.floor(seconds % 60)} s`;
  }
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** "just now", "12 s ago", "5 min ago", "3 h ago", else the date. */
export function formatAgo(iso: string | null | undefined, now: number = Date.now()): string {
  const time = parseTime(iso);
  if (time === null) {
    return 'never';
  }
  const seconds = Math.max(0, Math.round((now - time) / 1000));
  if (seconds < 2) {
    return 'just now';
  }
  if (seconds < 60) {
    return `${seconds} s ago`;
  }
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)} min ago`;
  }
  if (seconds < 86400) {
    return `${Math.floor(seconds / 3600)} h ago`;
  }
  return new Date(time).toISOString().slice(0, 10);
}

/** Local wall-clock time with milliseconds, for timelines and logs. */
export function formatClock(iso: string | null | undefined): string {
  const time = parseTime(iso);
  if (time === null) {
    return '';
  }
  const date = new Date(time);
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  return (
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `.${pad(date.getMilliseconds(), 3)}`
  );
}

/** A scheduled time, in the browser's zone: `Wed 12-03 06:00`. */
export function formatWhen(iso: string | null | undefined): string {
  const time = parseTime(iso);
  if (time === null) {
    return '';
  }
  const date = new Date(time);
  const pad = (n: number): string => String(n).padStart(2, '0');
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][date.getDay()];
  return `${day} ${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/**
 * A config as rows of dotted keys and text values:
 * `{type: "local", env: {A: "1"}, labels: []}` -> type=local, env.A=1, labels=(none).
 * Secrets arrive masked from the backend and are shown as they came.
 */
export function configRows(config: JSONValue | undefined, prefix = ''): [string, string][] {
  if (config === null || config === undefined) {
    return prefix ? [[prefix, '—']] : [];
  }
  if (Array.isArray(config)) {
    if (!config.length) {
      return [[prefix, '(none)']];
    }
    if (config.every(item => item === null || typeof item !== 'object')) {
      return [[prefix, config.map(item => String(item)).join(', ')]];
    }
    return config.flatMap((item, index) => configRows(item, `${prefix}[${index}]`));
  }
  if (typeof config === 'object') {
    const entries = Object.entries(config);
    if (!entries.length) {
      return prefix ? [[prefix, '(none)']] : [];
    }
    return entries.flatMap(([key, value]) => configRows(value, prefix ? `${prefix}.${key}` : key));
  }
  return [[prefix, String(config)]];
}

/** The `type` of a run config or executor, or a placeholder when it has none. */
export function configType(config: { [key: string]: JSONValue } | null | undefined,
                           fallback = 'default'): string {
  const type = config?.['type'];
  return typeof type === 'string' && type ? type : fallback;
}

/** The first 8 characters of an id, as the CLI shows them. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}
