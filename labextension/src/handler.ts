/**
 * The one way the extension talks to its server extension (/jupyter-flows/api/...).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { APIError, describeError } from './models/errors';
import type { FeedSource } from './models/eventFeed';

/**
 * An EventSource on `/jupyter-flows/api/<endPoint>`: the proxy passes the backend's
 * Server-Sent Events through as they come. The Jupyter login cookie authenticates it (an
 * EventSource cannot send headers), or the token when the server was opened with one.
 */
export function openEventSource(endPoint: string): FeedSource {
  const settings = ServerConnection.makeSettings();
  let url = URLExt.join(settings.baseUrl, 'jupyter-flows', 'api', endPoint);
  if (settings.token) {
    url += `${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(settings.token)}`;
  }
  return new EventSource(url, { withCredentials: true });
}

/**
 * Call `/jupyter-flows/api/<endPoint>` and parse its JSON answer (null for a 204).
 * Throws an `APIError` whose message is readable as it is.
 */
export async function requestAPI<T>(endPoint = '', init: RequestInit = {}): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'jupyter-flows', 'api', endPoint);
  if (init.body !== undefined && !init.method) {
    init = { ...init, method: 'POST' };
  }
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new APIError(0, `the Jupyter server did not answer: ${String(error)}`);
  }
  if (response.status === 204) {
    return null as T;
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text for the message
  }
  if (!response.ok) {
    throw new APIError(response.status, describeError(response.status, response.statusText, body));
  }
  return body as T;
}
