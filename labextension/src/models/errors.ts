/**
 * Errors from the server extension, turned into one readable sentence for the panel.
 */

/** A failed request: `status` is 0 when the Jupyter server itself did not answer. */
export class APIError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
    this.name = 'APIError';
  }
}

interface ValidationItem {
  loc?: (string | number)[];
  msg?: string;
}

/**
 * The message of an error answer: the proxy's `message` (e.g. "backend at URL is not
 * reachable: ..."), the backend's `detail` (a string, or FastAPI's list of validation
 * errors), else the HTTP status.
 */
export function describeError(status: number, statusText: string, body: unknown): string {
  if (body && typeof body === 'object') {
    const record = body as { message?: unknown; detail?: unknown };
    if (typeof record.message === 'string' && record.message) {
      return record.message;
    }
    if (typeof record.detail === 'string' && record.detail) {
      return record.detail;
    }
    if (Array.isArray(record.detail)) {
      return (record.detail as ValidationItem[])
        .map(item => {
          const where = (item.loc ?? []).filter(part => part !== 'body').join('.');
          return where ? `${where}: ${item.msg ?? 'invalid'}` : (item.msg ?? 'invalid');
        })
        .join('; ');
    }
  }
  if (typeof body === 'string' && body.trim() && !body.trim().startsWith('<')) {
    return `${status} ${statusText}: ${body.trim()}`;
  }
  return `the server answered ${status} ${statusText}`.trim();
}

/** Any thrown value as a message. */
export function errorText(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}
