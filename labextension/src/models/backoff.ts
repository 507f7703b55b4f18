/**
 * A backoff: quick after success, slower after each failure (reopening an event stream).
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
