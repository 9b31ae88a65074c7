import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/**
 * The URL namespace of the jupyter_envhelper server extension.
 */
export const API_NAMESPACE = 'envhelper';

/**
 * Why a request to the server extension failed.
 *
 * - `not-enabled`: the route does not exist (404 without our JSON error body):
 *   the jupyter_envhelper server extension is not installed or not enabled.
 * - `network`: the server could not be reached.
 * - `aborted`: the request was cancelled by us (a superseded search, say).
 * - `server`: the server extension answered with an error (`{message, reason}`).
 * - `invalid-response`: the answer was not the JSON we expected.
 */
export type EnvHelperErrorKind =
  'not-enabled' | 'network' | 'aborted' | 'server' | 'invalid-response';

/**
 * An error from the envhelper REST API, with what the user should read.
 */
export class EnvHelperAPIError extends Error {
  constructor(options: EnvHelperAPIError.IOptions) {
    super(options.message);
    this.name = 'EnvHelperAPIError';
    this.kind = options.kind;
    this.status = options.status;
    this.reason = options.reason ?? null;
  }

  /**
   * Which family of failure this is.
   */
  readonly kind: EnvHelperErrorKind;

  /**
   * The HTTP status, or 0 when no response arrived.
   */
  readonly status: number;

  /**
   * The server's `reason` (a short machine-ish word or phrase), if any.
   */
  readonly reason: string | null;

  /**
   * Whether the server extension appears to be missing.
   */
  get notEnabled(): boolean {
    return this.kind === 'not-enabled';
  }
}

export namespace EnvHelperAPIError {
  export interface IOptions {
    kind: EnvHelperErrorKind;
    status: number;
    message: string;
    reason?: string | null;
  }
}

/**
 * The message shown when the server extension does not answer (404).
 *
 * Kept untranslated here; views translate it through `trans.__()`.
 */
export const NOT_ENABLED_MESSAGE =
  'The jupyter_envhelper server extension is not enabled. ' +
  'Enable it with "jupyter server extension enable jupyter_envhelper" and restart the server.';

/**
 * Whether a value is an error coming from an aborted request.
 */
export function isAbortError(error: unknown): boolean {
  return (
    (error instanceof EnvHelperAPIError && error.kind === 'aborted') ||
    (error instanceof Error && error.name === 'AbortError')
  );
}

/**
 * Call the envhelper REST API.
 *
 * @param endPoint - the path under `<base_url>envhelper/`, with its query string
 * @param init - the fetch options (`signal` cancels the request)
 * @param settings - the server connection settings
 * @returns the decoded JSON body
 * @throws {EnvHelperAPIError} for every failure
 */
export async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const queryStart = endPoint.indexOf('?');
  const path = queryStart < 0 ? endPoint : endPoint.slice(0, queryStart);
  const query = queryStart < 0 ? '' : endPoint.slice(queryStart);
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, path) + query;

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    if (init.signal?.aborted) {
      throw new EnvHelperAPIError({
        kind: 'aborted',
        status: 0,
        message: 'The request was cancelled.'
      });
    }
    throw new EnvHelperAPIError({
      kind: 'network',
      status: 0,
      message: `The Jupyter server could not be reached: ${String(
        (error as Error)?.message ?? error
      )}`
    });
  }

  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    if (init.signal?.aborted) {
      throw new EnvHelperAPIError({
        kind: 'aborted',
        status: 0,
        message: 'The request was cancelled.'
      });
    }
    throw new EnvHelperAPIError({
      kind: 'network',
      status: response.status,
      message: `The answer from the server was cut off: ${String(error)}`
    });
  }
  const body = parseJSON(text);

  if (!response.ok) {
    throw errorFromResponse(response.status, response.statusText, body);
  }
  if (body === undefined) {
    throw new EnvHelperAPIError({
      kind: 'invalid-response',
      status: response.status,
      message: 'The server answered with something that is not JSON.'
    });
  }
  return body as T;
}

/**
 * Map an error response to an `EnvHelperAPIError`.
 *
 * A 404 whose body is our JSON error (`{message, reason}`) is a domain error
 * (unknown kernel, unknown package); a 404 without it means the route does not
 * exist, so the server extension is not enabled.
 */
export function errorFromResponse(
  status: number,
  statusText: string,
  body: unknown
): EnvHelperAPIError {
  const message = stringField(body, 'message');
  const reason = stringField(body, 'reason');
  if (status === 404 && message === null) {
    return new EnvHelperAPIError({
      kind: 'not-enabled',
      status,
      message: NOT_ENABLED_MESSAGE,
      reason: reason ?? 'not-enabled'
    });
  }
  return new EnvHelperAPIError({
    kind: 'server',
    status,
    message:
      message ?? `The server answered ${status} ${statusText}`.trimEnd() + '.',
    reason: reason ?? (statusText || null)
  });
}

function parseJSON(text: string): unknown {
  if (!text) {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A non-empty string field of our `{message, reason}` error body, else null.
 */
function stringField(body: unknown, key: 'message' | 'reason'): string | null {
  if (body && typeof body === 'object' && key in body) {
    const value = (body as Record<string, unknown>)[key];
    if (typeof value === 'string' && value.trim()) {
      return value;
    }
  }
  return null;
}

/**
 * Any failure as an `EnvHelperAPIError` (an unexpected exception becomes
 * `invalid-response`, keeping its message).
 */
export function toAPIError(error: unknown): EnvHelperAPIError {
  if (error instanceof EnvHelperAPIError) {
    return error;
  }
  return new EnvHelperAPIError({
    kind: 'invalid-response',
    status: 0,
    message: error instanceof Error ? error.message : String(error)
  });
}
