import { EnvHelperModel, filterDistributions, targetOf } from '../model';
import { EnvHelperAPIError } from '../request';
import { FakeAPI, FakeSession, flush } from './fixtures/fakes';
import { environmentResponse, searchResponse } from './fixtures/responses';

describe('EnvHelperModel', () => {
  let api: FakeAPI;
  let model: EnvHelperModel;

  beforeEach(() => {
    jest.useFakeTimers();
    api = new FakeAPI();
    model = new EnvHelperModel({
      api,
      searchDebounceMs: 250,
      idleRefreshMs: 0
    });
  });

  afterEach(() => {
    model.dispose();
    jest.useRealTimers();
  });

  describe('environment', () => {
    it('is empty without a notebook or console', () => {
      expect(model.environment.status).toBe('empty');
      expect(api.environmentCalls).toHaveLength(0);
    });

    it('loads the environment of the running kernel by kernel id', async () => {
      const session = new FakeSession();
      model.setSource(session.asSource);

      expect(model.environment.status).toBe('loading');
      expect(api.environmentCalls).toHaveLength(1);
      expect(api.environmentCalls[0].args[0]).toEqual({
        kernelId: 'k-1',
        specName: 'python3'
      });

      api.environmentCalls[0].resolve(environmentResponse());
      await flush();

      expect(model.environment.status).toBe('ready');
      expect(model.environment.response?.environment?.python_version).toBe(
        '3.11.7'
      );
      expect(model.kernel?.displayName).toBe('Python 3 (ipykernel)');
    });

    it('says no-kernel for a notebook without a kernel', () => {
      model.setSource(new FakeSession(null).asSource);
      expect(model.environment.status).toBe('no-kernel');
      expect(api.environmentCalls).toHaveLength(0);
    });

    it('keeps the error when the request fails', async () => {
      model.setSource(new FakeSession().asSource);
      api.environmentCalls[0].reject(
        new EnvHelperAPIError({
          kind: 'not-enabled',
          status: 404,
          message: 'not enabled'
        })
      );
      await flush();

      expect(model.environment.status).toBe('error');
      expect(model.environment.error?.notEnabled).toBe(true);
    });

    it('reloads when the kernel changes and ignores the old answer', async () => {
      const session = new FakeSession();
      model.setSource(session.asSource);
      const first = api.environmentCalls[0];

      session.setKernel({ id: 'k-2', name: 'py38' });

      expect(first.signal?.aborted).toBe(true);
      expect(api.environmentCalls).toHaveLength(2);
      expect(api.environmentCalls[1].args[0]).toEqual({
        kernelId: 'k-2',
        specName: 'py38'
      });
      first.resolve(environmentResponse());
      await flush();
      expect(model.environment.status).toBe('loading');

      api.environmentCalls[1].resolve(
        environmentResponse({ state: 'not-python', environment: null })
      );
      await flush();
      expect(model.environment.response?.state).toBe('not-python');
    });

    it('refreshes quietly when a restarted kernel is idle again', async () => {
      const session = new FakeSession();
      model.setSource(session.asSource);
      api.environmentCalls[0].resolve(environmentResponse());
      await flush();

      session.setStatus('restarting');
      expect(model.kernel?.status).toBe('restarting');
      expect(api.environmentCalls).toHaveLength(1);

      session.setStatus('idle');
      expect(api.environmentCalls).toHaveLength(2);
      // Quiet: the current environment stays on screen while it loads.
      expect(model.environment.status).toBe('ready');
    });

    it('refreshes quietly a while after a cell ran', async () => {
      model.dispose();
      model = new EnvHelperModel({ api, idleRefreshMs: 1000 });
      const session = new FakeSession();
      model.setSource(session.asSource);
      api.environmentCalls[0].resolve(environmentResponse());
      await flush();

      session.setStatus('busy');
      session.setStatus('idle');
      jest.advanceTimersByTime(999);
      expect(api.environmentCalls).toHaveLength(1);
      jest.advanceTimersByTime(1);
      expect(api.environmentCalls).toHaveLength(2);
    });

    it('goes back to empty when the notebook closes', () => {
      const session = new FakeSession();
      model.setSource(session.asSource);
      const call = api.environmentCalls[0];

      session.dispose();

      expect(model.source).toBeNull();
      expect(model.environment.status).toBe('empty');
      expect(call.signal?.aborted).toBe(true);
    });
  });

  describe('search', () => {
    beforeEach(async () => {
      model.setSource(new FakeSession().asSource);
      api.environmentCalls[0].resolve(environmentResponse());
      await flush();
    });

    it('waits for typing to pause before searching', () => {
      model.setQuery('r');
      jest.advanceTimersByTime(100);
      model.setQuery('re');
      jest.advanceTimersByTime(100);
      model.setQuery('req');
      expect(model.search.status).toBe('pending');
      jest.advanceTimersByTime(249);
      expect(api.searchCalls).toHaveLength(0);

      jest.advanceTimersByTime(1);

      expect(api.searchCalls).toHaveLength(1);
      expect(api.searchCalls[0].args).toEqual([
        'req',
        { kernelId: 'k-1', specName: 'python3' }
      ]);
      expect(model.search.status).toBe('loading');
    });

    it('cancels a superseded search and ignores its late answer', async () => {
      model.setQuery('req');
      jest.advanceTimersByTime(250);
      const first = api.searchCalls[0];

      model.setQuery('requests');
      jest.advanceTimersByTime(250);
      const second = api.searchCalls[1];

      expect(first.signal?.aborted).toBe(true);
      expect(second.signal?.aborted).toBe(false);

      second.resolve(searchResponse('requests'));
      await flush();
      expect(model.search.resultQuery).toBe('requests');
      expect(model.search.hits).toHaveLength(2);

      // A late answer for the old query changes nothing.
      first.resolve({ schema: 1, query: 'req', hits: [] });
      await flush();
      expect(model.search.resultQuery).toBe('requests');
      expect(model.search.hits).toHaveLength(2);
      expect(model.search.status).toBe('ready');
    });

    it('ignores a stale answer even if the transport ignores abort', async () => {
      api.honourAbort = false;
      model.setQuery('a');
      jest.advanceTimersByTime(250);
      const first = api.searchCalls[0];
      model.setQuery('b');
      jest.advanceTimersByTime(250);
      const second = api.searchCalls[1];

      second.resolve(searchResponse('b'));
      await flush();
      // Resolve the first one after the newer results arrived: a server or
      // proxy that answered anyway.
      first.resolve({ schema: 1, query: 'a', hits: [] });
      await flush();

      expect(first.signal?.aborted).toBe(true);
      expect(model.search.resultQuery).toBe('b');
      expect(model.search.hits).toHaveLength(2);
    });

    it('clearing the box cancels the search in flight', () => {
      model.setQuery('numpy');
      jest.advanceTimersByTime(250);
      const call = api.searchCalls[0];

      model.setQuery('  ');

      expect(call.signal?.aborted).toBe(true);
      expect(model.search.status).toBe('idle');
      expect(model.search.hits).toEqual([]);
      jest.advanceTimersByTime(1000);
      expect(api.searchCalls).toHaveLength(1);
    });

    it('keeps the error of a failed search', async () => {
      model.setQuery('numpy');
      jest.advanceTimersByTime(250);
      api.searchCalls[0].reject(
        new EnvHelperAPIError({
          kind: 'server',
          status: 502,
          message: 'The package index did not answer.'
        })
      );
      await flush();
      expect(model.search.status).toBe('error');
      expect(model.search.error?.message).toBe(
        'The package index did not answer.'
      );
    });

    it('asks again while the server says results are incomplete', async () => {
      model.setQuery('reque');
      jest.advanceTimersByTime(250);
      api.searchCalls[0].resolve({
        ...searchResponse('reque'),
        complete: false,
        note: 'still loading'
      });
      await flush();
      expect(model.search.note).toBe('still loading');

      jest.advanceTimersByTime(3000);
      expect(api.searchCalls).toHaveLength(2);
      expect(api.searchCalls[1].args[0]).toBe('reque');
      api.searchCalls[1].resolve({
        ...searchResponse('reque'),
        complete: true
      });
      await flush();
      jest.advanceTimersByTime(10000);
      expect(api.searchCalls).toHaveLength(2);
      expect(model.search.note).toBeNull();
    });

    it('does not ask again for a query the user has replaced', async () => {
      model.setQuery('reque');
      jest.advanceTimersByTime(250);
      api.searchCalls[0].resolve({
        ...searchResponse('reque'),
        complete: false
      });
      await flush();
      model.setQuery('numpy');
      jest.advanceTimersByTime(3000);
      expect(api.searchCalls.map(c => c.args[0])).toEqual(['reque', 'numpy']);
    });

    it('Enter searches at once', () => {
      model.setQuery('numpy');
      void model.searchNow();
      expect(api.searchCalls).toHaveLength(1);
      jest.advanceTimersByTime(1000);
      expect(api.searchCalls).toHaveLength(1);
    });
  });

  describe('details', () => {
    it('opens, loads and closes', async () => {
      model.setSource(new FakeSession().asSource);
      void model.openDetails('pandas');
      expect(model.details).toEqual(
        expect.objectContaining({ name: 'pandas', status: 'loading' })
      );
      expect(api.detailsCalls[0].args[0]).toBe('pandas');

      const call = api.detailsCalls[0];
      model.closeDetails();
      expect(call.signal?.aborted).toBe(true);
      expect(model.details).toBeNull();
    });
  });
});

describe('filterDistributions', () => {
  const dists = environmentResponse().environment!.distributions;

  it('sorts by name when there is no filter', () => {
    expect(filterDistributions(dists, '').map(d => d.name)).toEqual([
      'ipykernel',
      'my_project',
      'requests'
    ]);
  });

  it('treats - _ . alike and puts name matches before summary matches', () => {
    expect(filterDistributions(dists, 'my-proj').map(d => d.name)).toEqual([
      'my_project'
    ]);
    expect(filterDistributions(dists, 'jupyter').map(d => d.name)).toEqual([
      'ipykernel'
    ]);
    expect(filterDistributions(dists, 'zzz')).toEqual([]);
  });
});

describe('targetOf', () => {
  it('uses the running kernel when there is one', () => {
    expect(targetOf(new FakeSession().asSource)).toEqual({
      displayName: 'Python 3 (ipykernel)',
      specName: 'python3',
      kernelId: 'k-1',
      status: 'idle'
    });
  });

  it('is null without a kernel or without a source', () => {
    expect(targetOf(new FakeSession(null).asSource)).toBeNull();
    expect(targetOf(null)).toBeNull();
  });
});
