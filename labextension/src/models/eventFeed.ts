/**
 * A followed Server-Sent Events stream of the backend, through the server extension's proxy.
 *
 * The browser's EventSource reconnects by itself (sending Last-Event-ID) when a stream that
 * had opened is cut; when it gives up (the proxy answered 502: the backend is down) the feed
 * opens a new one after a backoff, from the last event id it saw. Nothing is polled.
 */
import { Backoff } from './backoff';

/** What the feed needs of an EventSource (the browser's, or a test's). */
export interface FeedSource {
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
  close(): void;
  readonly readyState: number;
  onopen: ((event: Event) => void) | null;
  onerror: ((event: Event) => void) | null;
}

/** Opens an event stream at `/jupyter-flows/api/<endPoint>`. */
export type SourceFactory = (endPoint: string) => FeedSource;

const CLOSED = 2;

export interface FeedOptions {
  /** The event names to deliver. */
  events: readonly string[];
  /** Where to (re)open the stream, given the id of the last event seen ('' for none). */
  endPoint: (lastId: string) => string;
  onEvent: (kind: string, data: unknown) => void;
  /** The stream opened (true) or failed (false). */
  onStatus?: (open: boolean) => void;
  backoff?: Backoff;
}

export class EventFeed {
  constructor(
    private readonly _open: SourceFactory,
    private readonly _options: FeedOptions
  ) {
    this._backoff = _options.backoff ?? new Backoff({ min: 500, max: 15000, factor: 2 });
  }

  get isFollowing(): boolean {
    return this._source !== null || this._timer !== null;
  }

  /** The id of the last event delivered. */
  get lastId(): string {
    return this._lastId;
  }

  start(): void {
    if (!this.isFollowing) {
      this._connect();
    }
  }

  stop(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    this._source?.close();
    this._source = null;
  }

  private _connect(): void {
    const source = this._open(this._options.endPoint(this._lastId));
    this._source = source;
    for (const kind of this._options.events) {
      source.addEventListener(kind, event => {
        if (this._source !== source) {
          return; // a stream that was stopped or replaced
        }
        if (event.lastEventId) {
          this._lastId = event.lastEventId;
        }
        let data: unknown = null;
        try {
          data = event.data ? JSON.parse(event.data as string) : null;
        } catch {
          data = event.data;
        }
        this._options.onEvent(kind, data);
      });
    }
    source.onopen = () => {
      this._backoff.reset();
      this._options.onStatus?.(true);
    };
    source.onerror = () => {
      if (this._source !== source) {
        return;
      }
      this._options.onStatus?.(false);
      if (source.readyState === CLOSED) {
        // the browser gave up on this one: open another after a while
        source.close();
        this._source = null;
        const delay = this._backoff.delay; // the first retry soon, then slower
        this._backoff.next(false);
        this._timer = setTimeout(() => {
          this._timer = null;
          this._connect();
        }, delay);
      }
    };
  }

  private _backoff: Backoff;
  private _source: FeedSource | null = null;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _lastId = '';
}
