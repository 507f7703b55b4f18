import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { Backoff, Poller } from '../src/models/backoff';

describe('Backoff', () => {
  it('grows while idle up to the maximum and resets when busy', () => {
    const backoff = new Backoff({ min: 1000, max: 5000, factor: 2 });
    expect(backoff.delay).toBe(1000);
    expect([backoff.next(false), backoff.next(false), backoff.next(false)]).toEqual([2000, 4000, 5000]);
    expect(backoff.next(true)).toBe(1000);
    backoff.next(false);
    backoff.reset();
    expect(backoff.delay).toBe(1000);
  });
});

describe('Poller', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('ticks at once, then after the backoff delay, and stops', async () => {
    let busy = true;
    const tick = vi.fn(async () => busy);
    const poller = new Poller(tick, { min: 100, max: 1000, factor: 2 });
    poller.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(tick).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(tick).toHaveBeenCalledTimes(2);
    busy = false;
    await vi.advanceTimersByTimeAsync(100); // third tick: idle, next delay 200
    expect(tick).toHaveBeenCalledTimes(3);
    await vi.advanceTimersByTimeAsync(150);
    expect(tick).toHaveBeenCalledTimes(3);
    await vi.advanceTimersByTimeAsync(50);
    expect(tick).toHaveBeenCalledTimes(4);
    poller.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(tick).toHaveBeenCalledTimes(4);
    expect(poller.isRunning).toBe(false);
  });

  it('treats a failing tick as idle and keeps polling', async () => {
    const tick = vi.fn(async () => {
      throw new Error('down');
    });
    const poller = new Poller(tick, { min: 100, max: 400, factor: 2 });
    poller.start();
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(200);
    await vi.advanceTimersByTimeAsync(400);
    expect(tick).toHaveBeenCalledTimes(3);
    expect(poller.backoff.delay).toBe(400);
    poller.stop();
  });

  it('refresh ticks now, resets the delay and never overlaps ticks', async () => {
    let release: () => void = () => {};
    const tick = vi.fn(() => new Promise<boolean>(resolve => (release = () => resolve(false))));
    const poller = new Poller(tick, { min: 100, max: 1000, factor: 4 });
    poller.start();
    const again = poller.refresh(); // a tick is in flight: no second one
    expect(tick).toHaveBeenCalledTimes(1);
    release();
    await again;
    expect(poller.backoff.delay).toBe(400);
    void poller.refresh();
    expect(tick).toHaveBeenCalledTimes(2);
    release();
    await vi.advanceTimersByTimeAsync(0);
    poller.stop();
  });
});
