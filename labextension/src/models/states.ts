/**
 * State names and how the UI groups and colours them (the backend's orchestration rules
 * decide transitions; here only presentation).
 */

export const STATE_NAMES = [
  'Pending',
  'Scheduled',
  'Submitted',
  'Running',
  'Cancelling',
  'Retrying',
  'Paused',
  'Success',
  'Failed',
  'TriggerFailed',
  'TimedOut',
  'Skipped',
  'Cancelled',
  'Cached',
  'Mapped',
  'Crashed'
] as const;

export type StateCategory =
  | 'pending'
  | 'waiting'
  | 'running'
  | 'success'
  | 'failed'
  | 'skipped'
  | 'cancelled';

const CATEGORY: Record<string, StateCategory> = {
  Pending: 'pending',
  Paused: 'pending',
  Scheduled: 'waiting',
  Retrying: 'waiting',
  Submitted: 'running',
  Running: 'running',
  Cancelling: 'cancelled',
  Success: 'success',
  Cached: 'success',
  Mapped: 'success',
  Skipped: 'skipped',
  Failed: 'failed',
  TriggerFailed: 'failed',
  TimedOut: 'failed',
  Crashed: 'failed',
  Cancelled: 'cancelled'
};

const FINISHED = new Set([
  'Success',
  'Cached',
  'Mapped',
  'Skipped',
  'Failed',
  'TriggerFailed',
  'TimedOut',
  'Crashed',
  'Cancelled'
]);

/** The colour group of a state; unknown states count as pending. */
export function stateCategory(state: string | null | undefined): StateCategory {
  return (state && CATEGORY[state]) || 'pending';
}

/** A finished run or task run does not change again (unless a retry reschedules a run). */
export function isFinished(state: string | null | undefined): boolean {
  return !!state && FINISHED.has(state);
}

/** Whether a person may still cancel a run in this state (every unfinished state but
 * Cancelling, whose cancel was already requested). */
export function isCancellable(state: string | null | undefined): boolean {
  return !!state && !FINISHED.has(state) && state !== 'Cancelling';
}

/** Finished but not successfully: the backend can restart it from where it failed. */
const RESTARTABLE = new Set(['Failed', 'TriggerFailed', 'TimedOut', 'Crashed', 'Cancelled']);

export function isRestartable(state: string | null | undefined): boolean {
  return !!state && RESTARTABLE.has(state);
}

/** The CSS class that colours a state. */
export function stateClass(state: string | null | undefined): string {
  return `jp-flows-state-${stateCategory(state)}`;
}
