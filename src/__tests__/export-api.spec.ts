/**
 * @jest-environment node
 */
import { ServerConnection } from '@jupyterlab/services';

import { EnvHelperAPI, IExportResponse } from '../api';
import { EnvHelperAPIError } from '../request';

function apiWith(handler: (request: Request) => Response): {
  api: EnvHelperAPI;
  requests: Request[];
} {
  const requests: Request[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    requests.push(request);
    return handler(request);
  };
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/a%40b/',
    fetch: fetch as typeof globalThis.fetch,
    Request,
    Headers,
    token: 'secret'
  });
  return { api: new EnvHelperAPI(settings), requests };
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' }
  });
}

const exported: IExportResponse = {
  schema: 1,
  kernel: {
    name: 'python3',
    display_name: 'Python 3 (ipykernel)',
    language: 'python',
    kernel_id: 'k-1',
    interpreter: '/srv/venv/bin/python',
    interpreter_source: 'kernel',
    spec_interpreter: '/srv/venv/bin/python',
    confirmed_by_kernel: true,
    mismatch: null
  },
  format: 'pylock',
  filename: 'pylock.toml',
  content: 'lock-version = "1.0"\n',
  packages: 12,
  notes: ['local 0.1: installed from file:///tmp/local']
};

describe('EnvHelperAPI.export', () => {
  it.each([
    ['requirements', false, '0'],
    ['requirements', true, '1'],
    ['pylock', false, '0'],
    ['environment-yml', false, '0'],
    ['environment-yml', true, '1']
  ] as const)(
    'asks GET envhelper/export for %s (only requested: %s)',
    async (format, onlyRequested, flag) => {
      const { api, requests } = apiWith(() => json(exported));

      const response = await api.export(
        { kernelId: 'k-1', specName: 'python3' },
        { format, only_requested: onlyRequested }
      );

      expect(response).toEqual(exported);
      expect(requests).toHaveLength(1);
      expect(requests[0].method).toBe('GET');
      const url = new URL(requests[0].url);
      expect(url.pathname).toBe('/a%40b/envhelper/export');
      expect(url.searchParams.getAll('kernel_id')).toEqual(['k-1']);
      expect(url.searchParams.has('kernel')).toBe(false);
      expect(url.searchParams.getAll('format')).toEqual([format]);
      expect(url.searchParams.getAll('only_requested')).toEqual([flag]);
    }
  );

  it('names a kernelspec when no kernel runs, and sends 0 by default', async () => {
    const { api, requests } = apiWith(() => json(exported));

    await api.export(
      { kernelId: null, specName: 'py 3' },
      { format: 'pylock' }
    );

    const url = new URL(requests[0].url);
    expect(url.searchParams.get('kernel')).toBe('py 3');
    expect(url.searchParams.has('kernel_id')).toBe(false);
    expect(url.searchParams.get('format')).toBe('pylock');
    expect(url.searchParams.get('only_requested')).toBe('0');
  });

  it("rejects with the error document's message on a 400", async () => {
    const { api } = apiWith(() =>
      json(
        {
          message:
            'This is not a conda environment: export requirements or pylock instead.',
          reason: 'bad-request',
          detail: null
        },
        400
      )
    );

    const error = await api
      .export({ kernelId: 'k-1' }, { format: 'environment-yml' })
      .then(
        () => null,
        (e: unknown) => e
      );

    expect(error).toBeInstanceOf(EnvHelperAPIError);
    expect((error as EnvHelperAPIError).status).toBe(400);
    expect((error as EnvHelperAPIError).kind).toBe('server');
    expect((error as EnvHelperAPIError).message).toBe(
      'This is not a conda environment: export requirements or pylock instead.'
    );
  });
});
