/**
 * @jest-environment node
 */
import { ServerConnection } from '@jupyterlab/services';

import { EnvHelperAPI, IJobEvent } from '../api';
import { EventStreamParser, jobEventOf } from '../events';
import { EnvHelperAPIError } from '../request';

const STREAM =
  'id: 0\ndata: {"index": 0, "type": "state", "state": "running"}\n\n' +
  ': keep-alive\n\n' +
  'id: 1\ndata: {"index": 1, "type": "progress", "phase": "downloading", "fraction": 0.5}\n\n' +
  'id: 2\ndata: {"index": 2, "type": "log", "line": "Collecting pandas"}\n\n';

function parseAll(chunks: string[]): IJobEvent[] {
  const parser = new EventStreamParser();
  const events: IJobEvent[] = [];
  for (const chunk of chunks) {
    for (const message of parser.push(chunk)) {
      const event = jobEventOf(message);
      if (event) {
        events.push(event);
      }
    }
  }
  return events;
}

describe('EventStreamParser', () => {
  it('reads whole events', () => {
    const events = parseAll([STREAM]);
    expect(events.map(e => [e.index, e.type])).toEqual([
      [0, 'state'],
      [1, 'progress'],
      [2, 'log']
    ]);
    expect(events[1].fraction).toBe(0.5);
  });

  it('gives the same events whatever the chunk boundaries', () => {
    const whole = parseAll([STREAM]);
    for (let size = 1; size < 40; size += 3) {
      const chunks: string[] = [];
      for (let i = 0; i < STREAM.length; i += size) {
        chunks.push(STREAM.slice(i, i + size));
      }
      expect(parseAll(chunks)).toEqual(whole);
    }
  });

  it('holds an event split mid-event until its blank line', () => {
    const parser = new EventStreamParser();
    expect(parser.push('id: 5\ndata: {"index": 5, "ty')).toEqual([]);
    expect(parser.push('pe": "log", "line": "x"}\n')).toEqual([]);
    const [message] = parser.push('\n');
    expect(jobEventOf(message)).toEqual({ index: 5, type: 'log', line: 'x' });
  });

  it('handles CRLF split between chunks and multi-line data', () => {
    const parser = new EventStreamParser();
    expect(parser.push('data: {"index": 1,\r')).toEqual([]);
    expect(parser.push('\ndata: "type": "log"}\r')).toEqual([]);
    const messages = parser.push('\n\r\n');
    expect(messages).toHaveLength(1);
    expect(messages[0].data).toBe('{"index": 1,\n"type": "log"}');
    expect(jobEventOf(messages[0])?.type).toBe('log');
  });

  it('drops a last event without its blank line at the end', () => {
    const parser = new EventStreamParser();
    parser.push('data: {"index": 1, "type": "log"}\n');
    parser.end();
    expect(parser.push('\n')).toEqual([]);
  });

  it('takes the index from the id when the data has none', () => {
    expect(
      jobEventOf({ id: '7', event: 'message', data: '{"type": "progress"}' })
    ).toEqual({ index: 7, type: 'progress' });
    expect(
      jobEventOf({ id: null, event: 'message', data: 'not json' })
    ).toBeNull();
  });
});

describe('EnvHelperAPI job calls', () => {
  function settingsWith(handler: (request: Request) => Response) {
    const requests: Request[] = [];
    const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      const request =
        input instanceof Request ? input : new Request(input, init);
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
    return { settings, requests };
  }

  function chunkedStream(chunks: string[]): ReadableStream<Uint8Array> {
    const encoder = new TextEncoder();
    return new ReadableStream({
      start(controller) {
        for (const chunk of chunks) {
          controller.enqueue(encoder.encode(chunk));
        }
        controller.close();
      }
    });
  }

  it('streams events with the auth header, split chunks and all', async () => {
    const chunks = [
      STREAM.slice(0, 17),
      STREAM.slice(17, 90),
      STREAM.slice(90)
    ];
    const { settings, requests } = settingsWith(
      () =>
        new Response(chunkedStream(chunks), {
          headers: { 'Content-Type': 'text/event-stream' }
        })
    );
    const api = new EnvHelperAPI(settings);
    const events: IJobEvent[] = [];
    for await (const event of api.jobEvents('j 1', 3)) {
      events.push(event);
    }
    expect(events.map(e => e.index)).toEqual([0, 1, 2]);
    const url = new URL(requests[0].url);
    expect(url.pathname).toBe('/a%40b/envhelper/jobs/j%201/events');
    expect(url.searchParams.get('since')).toBe('3');
    expect(requests[0].headers.get('Authorization')).toBe('token secret');
  });

  it('throws an API error when the stream cannot be opened', async () => {
    const { settings } = settingsWith(
      () =>
        new Response(JSON.stringify({ message: 'No job j-9', reason: 'x' }), {
          status: 404
        })
    );
    const api = new EnvHelperAPI(settings);
    const iterate = async () => {
      const events: IJobEvent[] = [];
      for await (const event of api.jobEvents('j-9', 0)) {
        events.push(event);
      }
      return events;
    };
    await expect(iterate()).rejects.toBeInstanceOf(EnvHelperAPIError);
  });

  it('posts plans and jobs as JSON naming the kernel', async () => {
    const { settings, requests } = settingsWith(
      () =>
        new Response(JSON.stringify({ schema: 1, job: { id: 'j-1' } }), {
          status: 202
        })
    );
    const api = new EnvHelperAPI(settings);
    await api.plan(
      { kernelId: 'k-1', specName: 'python3' },
      { requirements: ['pandas>=2'] }
    );
    await api.startJob(
      { specName: 'py312' },
      { action: 'undo', job_id: 'j-0' }
    );
    await api.cancelJob('j-1');
    await api.history({ kernelId: 'k-1' });

    expect(requests.map(r => [r.method, new URL(r.url).pathname])).toEqual([
      ['POST', '/a%40b/envhelper/plan'],
      ['POST', '/a%40b/envhelper/jobs'],
      ['POST', '/a%40b/envhelper/jobs/j-1/cancel'],
      ['GET', '/a%40b/envhelper/history']
    ]);
    expect(await requests[0].json()).toEqual({
      kernel_id: 'k-1',
      requirements: ['pandas>=2']
    });
    expect(await requests[1].json()).toEqual({
      kernel: 'py312',
      action: 'undo',
      job_id: 'j-0'
    });
    expect(new URL(requests[3].url).searchParams.get('kernel_id')).toBe('k-1');
  });

  it('gives a 409 its reason', async () => {
    const { settings } = settingsWith(
      () =>
        new Response(
          JSON.stringify({
            message: 'The environment changed since the plan.',
            reason: 'changed'
          }),
          { status: 409 }
        )
    );
    const api = new EnvHelperAPI(settings);
    await expect(
      api.startJob({ kernelId: 'k-1' }, { action: 'install' })
    ).rejects.toMatchObject({ status: 409, reason: 'changed' });
  });
});
