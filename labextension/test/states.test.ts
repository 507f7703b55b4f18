import { describe, expect, it } from 'vitest';

import { isCancellable, isFinished, STATE_NAMES, stateCategory, stateClass } from '../src/models/states';

describe('states', () => {
  it.each([
    ['Scheduled', 'waiting'],
    ['Retrying', 'waiting'],
    ['Submitted', 'running'],
    ['Running', 'running'],
    ['Success', 'success'],
    ['Mapped', 'success'],
    ['Cached', 'success'],
    ['Failed', 'failed'],
    ['Crashed', 'failed'],
    ['TimedOut', 'failed'],
    ['Skipped', 'skipped'],
    ['Cancelled', 'cancelled'],
    ['Cancelling', 'cancelled'],
    ['Paused', 'pending'],
    ['SomethingNew', 'pending']
  ])('%s is %s', (state, category) => {
    expect(stateCategory(state)).toBe(category);
    expect(stateClass(state)).toBe(`jp-flows-state-${category}`);
  });

  it('knows finished and cancellable states', () => {
    for (const state of STATE_NAMES) {
      expect(isCancellable(state)).toBe(!isFinished(state) && state !== 'Cancelling');
    }
    expect(isFinished('Success')).toBe(true);
    expect(isFinished('Running')).toBe(false);
    expect(isFinished(null)).toBe(false);
    expect(isCancellable(undefined)).toBe(false);
  });
});
