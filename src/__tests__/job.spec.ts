import { JobModel, logLinesOf, progressOf } from '../job';
import { EnvHelperAPIError } from '../request';
import {
  FakeChangeAPI,
  job,
  settle as flush,
  succeeded
} from './fixtures/changes';

describe('JobModel', () => {
  let api: FakeChangeAPI;

  beforeEach(() => {
    jest.useFakeTimers();
    api = new FakeChangeAPI();
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  function follow(snapshot = job()) {
    const model = new JobModel({ api, job: snapshot, pollMs: 1000 });
    const ended = jest.fn();
    model.ended.connect((_, j) => ended(j));
    void model.start();
    return { model, ended };
  }

  it('follows progress, log and state from the event stream', async () => {
    const { model, ended } = follow();
    await flush();
    expect(model.connection).toBe('streaming');
    expect(api.feeds[0].since).toBe(0);

    const feed = api.feeds[0];
    feed.push(
      { index: 0, type: 'state', state: 'running' },
      {
        index: 1,
        type: 'progress',
        progress: {
          phase: 'downloading',
          fraction: 0.25,
          bytes_done: 1000,
          bytes_total: 4000,
          package: 'pandas',
          message: 'pandas-2.2.3.whl'
        }
      },
      { index: 2, type: 'log', line: 'Downloading pandas' }
    );
    await flush();

    expect(model.job.state).toBe('running');
    expect(model.job.progress).toMatchObject({
      phase: 'downloading',
      fraction: 0.25,
      bytes_done: 1000,
      package: 'pandas'
    });
    expect(model.log).toEqual(['Downloading pandas']);

    // The end: the stream says so, and the job's record has the outcome.
    feed.push({ index: 3, type: 'state', state: 'succeeded' });
    feed.end();
    await flush();
    expect(api.jobCalls).toHaveLength(1);
    api.jobCalls[0].resolve({ schema: 1, job: succeeded() });
    await flush();

    expect(model.finished).toBe(true);
    expect(model.outcome?.message).toBe('Installed pandas 2.2.3.');
    expect(model.connection).toBe('done');
    expect(ended).toHaveBeenCalledTimes(1);
  });

  it('connects late: starts from the state so far and skips replayed events', async () => {
    const { model } = follow(
      job({
        state: 'running',
        events: 5,
        log_tail: ['line 3', 'line 4'],
        progress: {
          phase: 'installing',
          fraction: 0.8,
          bytes_done: null,
          bytes_total: null,
          package: 'numpy',
          message: ''
        }
      })
    );
    expect(model.log).toEqual(['line 3', 'line 4']);
    expect(model.job.progress?.phase).toBe('installing');
    await flush();
    expect(api.feeds[0].since).toBe(5);

    api.feeds[0].push(
      { index: 4, type: 'log', line: 'line 4' }, // already in the tail
      { index: 5, type: 'log', line: 'line 5' },
      { index: 6, type: 'progress', phase: 'verifying', fraction: null }
    );
    await flush();
    expect(model.log).toEqual(['line 3', 'line 4', 'line 5']);
    expect(model.job.progress).toMatchObject({
      phase: 'verifying',
      fraction: null,
      package: 'numpy'
    });
  });

  it('falls back to polling every second when the stream fails', async () => {
    api.streamError = new EnvHelperAPIError({
      kind: 'network',
      status: 0,
      message: 'no streaming'
    });
    const { model, ended } = follow();
    await flush();

    expect(model.connection).toBe('polling');
    expect(api.jobCalls).toHaveLength(1);
    api.jobCalls[0].resolve({
      schema: 1,
      job: job({ state: 'running', log_tail: ['a', 'b'] })
    });
    await flush();
    expect(model.job.state).toBe('running');
    expect(model.log).toEqual(['a', 'b']);

    jest.advanceTimersByTime(999);
    await flush();
    expect(api.jobCalls).toHaveLength(1);
    jest.advanceTimersByTime(1);
    await flush();
    expect(api.jobCalls).toHaveLength(2);

    // The tail moved on: only the new lines are added.
    api.jobCalls[1].resolve({
      schema: 1,
      job: succeeded({ log_tail: ['b', 'c'] })
    });
    await flush();
    expect(model.log).toEqual(['a', 'b', 'c']);
    expect(model.finished).toBe(true);
    expect(ended).toHaveBeenCalledTimes(1);

    jest.advanceTimersByTime(5000);
    await flush();
    expect(api.jobCalls).toHaveLength(2);
  });

  it('keeps polling through a failed poll', async () => {
    api.streamError = new Error('x');
    const { model } = follow();
    await flush();
    api.jobCalls[0].reject(
      new EnvHelperAPIError({ kind: 'network', status: 0, message: 'down' })
    );
    await flush();
    expect(model.error?.message).toBe('down');
    expect(model.finished).toBe(false);
    jest.advanceTimersByTime(1000);
    await flush();
    expect(api.jobCalls).toHaveLength(2);
  });

  it('cancels', async () => {
    const { model } = follow(job({ state: 'running' }));
    await flush();
    const cancel = model.cancel();
    expect(model.cancelling).toBe(true);
    expect(api.cancelCalls[0].args).toEqual(['j-1']);
    api.cancelCalls[0].resolve({ schema: 1, job: job({ state: 'running' }) });
    await cancel;

    api.feeds[0].push({
      index: 0,
      type: 'state',
      state: 'cancelled',
      outcome: {
        message: 'Cancelled before anything changed.',
        failure: null,
        changed: [],
        differences: [],
        restart_needed: false,
        restart_modules: []
      }
    });
    await flush();
    expect(model.job.state).toBe('cancelled');
    expect(model.cancelling).toBe(false);
    expect(model.outcome?.message).toBe('Cancelled before anything changed.');
  });

  it('stops when disposed', async () => {
    api.streamError = new Error('x');
    const { model } = follow();
    await flush();
    model.dispose();
    api.jobCalls[0].resolve({ schema: 1, job: job({ state: 'running' }) });
    jest.advanceTimersByTime(5000);
    await flush();
    expect(api.jobCalls).toHaveLength(1);
  });
});

describe("JobModel with the server's events", () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function serverEvent(
    seq: number,
    fields: Record<string, unknown>
  ): Record<string, unknown> & { index: number; type: string } {
    return {
      seq,
      index: seq,
      time: 1763700000 + seq,
      state: 'running',
      message: null,
      line: null,
      package: null,
      bytes_done: null,
      bytes_total: null,
      type: fields.line ? 'log' : 'progress',
      ...fields
    };
  }

  it('asks the job for the fraction of a new phase, and ends on the state event', async () => {
    const api = new FakeChangeAPI();
    const model = new JobModel({
      api,
      job: job({ id: 3, state: 'running', events: 1 }),
      pollMs: 1000
    });
    void model.start();
    await flush();
    expect(api.feeds[0].since).toBe(1);

    api.feeds[0].push(
      serverEvent(1, {
        phase: 'downloading',
        package: 'envhelper-demo',
        bytes_done: 500,
        bytes_total: 1000
      })
    );
    await flush();
    expect(model.job.progress).toMatchObject({
      phase: 'downloading',
      fraction: null,
      bytes_done: 500,
      package: 'envhelper-demo'
    });
    expect(api.jobCalls[0].args).toEqual([3]);
    api.jobCalls[0].resolve({
      schema: 1,
      job: job({
        id: 3,
        state: 'running',
        progress: {
          phase: 'downloading',
          fraction: 0.4,
          bytes_done: 500,
          bytes_total: 1000,
          package: 'envhelper-demo',
          message: ''
        }
      })
    });
    await flush();
    expect(model.job.progress?.fraction).toBe(0.4);

    // A log line keeps the progress.
    api.feeds[0].push(serverEvent(2, { phase: 'downloading', line: 'got it' }));
    await flush();
    expect(model.log).toEqual(['got it']);
    expect(model.job.progress?.package).toBe('envhelper-demo');

    // The closing event: index -1, the whole job.
    api.feeds[0].push({
      type: 'state',
      index: -1,
      job: succeeded({ id: 3, events: 4 })
    });
    api.feeds[0].end();
    await flush();
    expect(model.finished).toBe(true);
    expect(model.outcome?.message).toBe('Installed pandas 2.2.3.');
    expect(model.log).toEqual(['got it']);
  });
});

describe('event payloads', () => {
  it('reads progress nested or inline', () => {
    expect(
      progressOf({ index: 0, type: 'progress', phase: 'resolving' }, null)
    ).toEqual({
      phase: 'resolving',
      fraction: null,
      bytes_done: null,
      bytes_total: null,
      files_done: null,
      files_total: null,
      since: null,
      package: null,
      message: ''
    });
  });

  it('reads log lines in several shapes', () => {
    expect(logLinesOf({ index: 0, type: 'log', line: 'a' })).toEqual(['a']);
    expect(logLinesOf({ index: 0, type: 'log', lines: ['a', 'b'] })).toEqual([
      'a',
      'b'
    ]);
    expect(logLinesOf({ index: 0, type: 'log', text: 'a\nb\n' })).toEqual([
      'a',
      'b'
    ]);
  });
});
