import { ChangesModel } from '../changes';
import {
  CurrencyAPI,
  CurrencyModel,
  IOutdatedResponse,
  IUpdatePlanResponse,
  UpdateMode
} from '../currency';
import {
  FakeChangeAPI,
  FakeHost,
  job,
  planResponse,
  settle
} from './fixtures/changes';

class FakeCurrencyAPI extends CurrencyAPI {
  outdatedCalls = 0;
  planned: [UpdateMode, string[]][] = [];
  started: [string[], string | null][] = [];

  outdated(): Promise<IOutdatedResponse> {
    this.outdatedCalls++;
    return Promise.resolve({
      schema: 1,
      packages: [],
      counts: {},
      outdated: 0,
      held_back: 0,
      elapsed_ms: 1,
      warnings: []
    });
  }

  planUpdate(
    _ref: unknown,
    mode: UpdateMode,
    names: string[] = []
  ): Promise<IUpdatePlanResponse> {
    this.planned.push([mode, names]);
    return Promise.resolve({
      ...planResponse(),
      state: 'plan',
      update: {
        mode,
        requirements: ['numx==1.5'],
        packages: [],
        held_back: []
      }
    });
  }

  startUpdate(
    _ref: unknown,
    requirements: string[],
    fingerprint: string | null
  ): ReturnType<CurrencyAPI['startUpdate']> {
    this.started.push([requirements, fingerprint]);
    return Promise.resolve({ schema: 1, job: job({ id: 'j-9' }) });
  }
}

describe('CurrencyModel', () => {
  it('loads outdated when the filter opens and runs an update plan as a job', async () => {
    const host = new FakeHost();
    const changes = new ChangesModel({
      api: new FakeChangeAPI(),
      host,
      pollMs: 10
    });
    const api = new FakeCurrencyAPI();
    const currency = new CurrencyModel({ host, changes, api });
    expect(api.outdatedCalls).toBe(0);
    currency.mode = 'outdated';
    await settle();
    expect(api.outdatedCalls).toBe(1);
    expect(currency.outdated.status).toBe('ready');

    void currency.planUpdate('all-that-fit');
    await settle();
    expect(api.planned).toEqual([['all-that-fit', []]]);
    expect(currency.plan?.requirements).toEqual(['numx==1.5']);
    expect(currency.canInstall).toBe(true);

    await currency.confirm();
    expect(api.started[0][0]).toEqual(['numx==1.5']);
    expect(currency.plan).toBeNull();
    expect(changes.job?.id).toBe('j-9');

    // a newly read environment makes it stale: read again, once
    const read = {
      status: 'ready' as const,
      response: { schema: 1 } as never,
      error: null
    };
    host.environmentChanged.emit(read);
    await settle();
    expect(api.outdatedCalls).toBe(2);
    // the kernel going busy and idle again is no reason to ask again
    host.environmentChanged.emit({ ...read });
    host.environmentChanged.emit(read);
    await settle();
    expect(api.outdatedCalls).toBe(2);
    currency.dispose();
    changes.dispose();
  });
});
