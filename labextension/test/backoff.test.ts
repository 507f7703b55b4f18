import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { Backoff } from '../src/models/backoff';
import { EventFeed } from '../src/models/eventFeed';
import { FakeSource } from './fixtures';

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

describe('EventFeed', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setUp() {
    const sources: FakeSource[] = [];
    const got: [string, unknown][] = [];
    const statuses: boolean[] = [];
    const feed = new EventFeed(endPoint => {
      const source = new FakeSource(endPoint);
      sources.push(source);
      return source;
    }, {
      events: ['log', 'end'],
      endPoint: lastId => (lastId ? `events?after=${lastId}` : 'events'),
      onEvent: (kind, data) => got.push([kind, data]),
      onStatus: open => statuses.push(open),
      backoff: new Backoff({ min: 100, max: 1000, factor: 2 })
    });
    return { feed, sources, got, statuses };
  }

  it('delivers the events it listens to, parsed, and remembers the last id', () => {
    const { feed, sources, got } = setUp();
    feed.start();
    feed.start(); // already following: no second stream
    expect(sources.map(s => s.endPoint)).toEqual(['events']);
    sources[0]!.open();
    sources[0]!.emit('log', { id: 1 }, '7');
    sources[0]!.emit('other', { id: 2 }, '8');
    expect(got).toEqual([['log', { id: 1 }]]);
    expect(feed.lastId).toBe('7');
  });

  it('leaves reconnecting to the browser, and reopens after a backoff once it gives up', () => {
    const { feed, sources, statuses } = setUp();
    feed.start();
    sources[0]!.open();
    sources[0]!.emit('log', {}, '3');
    sources[0]!.fail(false); // the browser reconnects by itself
    vi.advanceTimersByTime(5000);
    expect(sources).toHaveLength(1);
    sources[0]!.fail(true); // a 502: it gave up
    expect(sources[0]!.closed).toBe(true);
    vi.advanceTimersByTime(99);
    expect(sources).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sources.map(s => s.endPoint)).toEqual(['events', 'events?after=3']);
    sources[1]!.fail(true);
    vi.advanceTimersByTime(199);
    expect(sources).toHaveLength(2); // the delay grew
    vi.advanceTimersByTime(1);
    expect(sources).toHaveLength(3);
    sources[2]!.open();
    expect(statuses).toEqual([true, false, false, false, true]);
  });

  it('stops: the stream is closed and nothing is reopened or delivered', () => {
    const { feed, sources, got } = setUp();
    feed.start();
    sources[0]!.fail(true);
    feed.stop();
    vi.advanceTimersByTime(10000);
    expect(sources).toHaveLength(1);
    expect(feed.isFollowing).toBe(false);
    sources[0]!.emit('log', {}, '1');
    expect(got).toEqual([]);
  });
});
