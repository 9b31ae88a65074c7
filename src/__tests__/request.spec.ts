/**
 * @jest-environment node
 */
import { ServerConnection } from '@jupyterlab/services';

import { EnvHelperAPI } from '../api';
import { EnvHelperAPIError, isAbortError, requestAPI } from '../request';

type Handler = (request: Request) => Promise<Response> | Response;

function settingsWith(handler: Handler): {
  settings: ServerConnection.ISettings;
  requests: Request[];
} {
  const requests: Request[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    requests.push(request);
    if (request.signal.aborted) {
      throw new DOMException('The operation was aborted.', 'AbortError');
    }
    return handler(request);
  };
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/a%40b/',
    fetch: fetch as typeof globalThis.fetch,
    Request,
    Headers,
    token: 'secret'
  });
  return { settings, requests };
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' }
  });
}

async function caught(promise: Promise<unknown>): Promise<EnvHelperAPIError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(EnvHelperAPIError);
    return error as EnvHelperAPIError;
  }
  throw new Error('expected the request to fail');
}

describe('requestAPI', () => {
  it('calls <base_url>envhelper/<endpoint> and returns the JSON', async () => {
    const { settings, requests } = settingsWith(() =>
      json({ schema: 1, kernels: [] })
    );

    const body = await requestAPI('kernels', {}, settings);

    expect(body).toEqual({ schema: 1, kernels: [] });
    const url = new URL(requests[0].url);
    expect(url.pathname).toBe('/a%40b/envhelper/kernels');
    expect(requests[0].headers.get('Authorization')).toBe('token secret');
  });

  it('says the server extension is not enabled on a bare 404', async () => {
    const { settings } = settingsWith(
      () =>
        new Response('<html><body>404 : Not Found</body></html>', {
          status: 404,
          statusText: 'Not Found'
        })
    );

    const error = await caught(requestAPI('kernels', {}, settings));

    expect(error.status).toBe(404);
    expect(error.kind).toBe('not-enabled');
    expect(error.notEnabled).toBe(true);
    expect(error.message).toMatch(
      /jupyter_envhelper server extension is not enabled/
    );
  });

  it('keeps the message and reason of our own 404 (unknown package)', async () => {
    const { settings } = settingsWith(() =>
      json(
        {
          message: 'No package named "reqeusts" on the index.',
          reason: 'unknown-package'
        },
        404
      )
    );

    const error = await caught(requestAPI('packages/reqeusts', {}, settings));

    expect(error.notEnabled).toBe(false);
    expect(error.kind).toBe('server');
    expect(error.message).toBe('No package named "reqeusts" on the index.');
    expect(error.reason).toBe('unknown-package');
  });

  it('maps a 502 with our error body', async () => {
    const { settings } = settingsWith(() =>
      json(
        { message: 'The package index did not answer.', reason: 'index' },
        502
      )
    );

    const error = await caught(requestAPI('search?q=x', {}, settings));

    expect(error.status).toBe(502);
    expect(error.message).toBe('The package index did not answer.');
    expect(error.reason).toBe('index');
  });

  it('words an error without a body from its status', async () => {
    const { settings } = settingsWith(
      () =>
        new Response('', { status: 500, statusText: 'Internal Server Error' })
    );

    const error = await caught(requestAPI('kernels', {}, settings));

    expect(error.kind).toBe('server');
    expect(error.message).toBe(
      'The server answered 500 Internal Server Error.'
    );
  });

  it('reports a network failure', async () => {
    const { settings } = settingsWith(() => {
      throw new TypeError('Failed to fetch');
    });

    const error = await caught(requestAPI('kernels', {}, settings));

    expect(error.kind).toBe('network');
    expect(error.status).toBe(0);
  });

  it('reports an aborted request as aborted', async () => {
    const { settings } = settingsWith(() => json({}));
    const controller = new AbortController();
    controller.abort();

    const error = await caught(
      requestAPI('kernels', { signal: controller.signal }, settings)
    );

    expect(error.kind).toBe('aborted');
    expect(isAbortError(error)).toBe(true);
  });

  it('refuses a 200 that is not JSON', async () => {
    const { settings } = settingsWith(() => new Response('<html></html>'));

    const error = await caught(requestAPI('kernels', {}, settings));

    expect(error.kind).toBe('invalid-response');
  });
});

describe('EnvHelperAPI', () => {
  it('names a running kernel by id, a spec by name', async () => {
    const { settings, requests } = settingsWith(() => json({ schema: 1 }));
    const api = new EnvHelperAPI(settings);

    await api.environment({ kernelId: 'abc-123', specName: 'python3' });
    await api.environment({ specName: 'py 3.8' });

    const first = new URL(requests[0].url);
    expect(first.pathname).toBe('/a%40b/envhelper/environment');
    expect(first.searchParams.get('kernel_id')).toBe('abc-123');
    expect(first.searchParams.has('kernel')).toBe(false);
    const second = new URL(requests[1].url);
    expect(second.searchParams.get('kernel')).toBe('py 3.8');
  });

  it('encodes the search query and the package name', async () => {
    const { settings, requests } = settingsWith(() => json({ schema: 1 }));
    const api = new EnvHelperAPI(settings);

    await api.search('plot & graph', { kernelId: 'k' });
    await api.packageDetails('zope.interface', { specName: 'python3' });

    const search = new URL(requests[0].url);
    expect(search.pathname).toBe('/a%40b/envhelper/search');
    expect(search.searchParams.get('q')).toBe('plot & graph');
    expect(search.searchParams.get('kernel_id')).toBe('k');
    const details = new URL(requests[1].url);
    expect(details.pathname).toBe('/a%40b/envhelper/packages/zope.interface');
    expect(details.searchParams.get('kernel')).toBe('python3');
  });

  it('passes the abort signal to fetch', async () => {
    const { settings, requests } = settingsWith(() => json({ schema: 1 }));
    const api = new EnvHelperAPI(settings);
    const controller = new AbortController();

    const pending = api.search('x', {}, controller.signal);
    controller.abort();
    await pending.catch(() => undefined);

    expect(requests[0].signal.aborted).toBe(true);
  });
});
