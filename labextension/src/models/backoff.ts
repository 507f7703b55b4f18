/**
 * Polling with backoff: quick while something changes, slower while idle or failing.
 */

export interface BackoffOptions {
  /** First and shortest delay, ms. */
  min: number;
  /** Longest delay, ms. */
  max: number;
  /** Growth of the delay after each idle or failed tick. */
  factor: number;
}

export class Backoff {
  constructor(readonly options: BackoffOptions) {
    this._delay = options.min;
  }

  /** The delay before the next tick. */
  get delay(): number {
    return this._delay;
  }

  /** A busy tick (something is running or changed) resets; an idle or failed one grows. */
  next(busy: boolean): number {
    const { min, max, factor } = this.options;
    this._delay = busy ? min : Math.min(max, Math.round(this._delay * factor));
    return this._delay;
  }

  reset(): void {
    this._delay = this.options.min;
  }

  private _delay: number;
}

/**
 * Calls `tick` again and again with a backoff between calls, never two at once.
 * `tick` resolves to true while busy; a rejection counts as idle (the model shows it).
 */
export class Poller {
  constructor(
    private readonly _tick: () => Promise<boolean>,
    options: BackoffOptions
  ) {
    this.backoff = new Backoff(options);
  }

  readonly backoff: Backoff;

  get isRunning(): boolean {
    return this._running;
  }

  /** Start polling (the first tick runs at once). */
  start(): void {
    if (this._running) {
      return;
    }
    this._running = true;
    void this._run();
  }

  stop(): void {
    this._running = false;
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  /** Tick now and go back to the shortest delay (after a user action). */
  refresh(): Promise<void> {
    this.backoff.reset();
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    return this._run();
  }

  private async _run(): Promise<void> {
    if (this._inFlight) {
      return this._inFlight;
    }
    this._inFlight = (async () => {
      let busy = false;
      try {
        busy = await this._tick();
      } catch {
        busy = false;
      }
      this._inFlight = null;
      const delay = this.backoff.next(busy);
      if (this._running) {
        this._timer = setTimeout(() => {
          this._timer = null;
          void this._run();
        }, delay);
      }
    })();
    return this._inFlight;
  }

  private _running = false;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _inFlight: Promise<void> | null = null;
}
