import { ChangesModel } from '../changes';
import { HistoryModel } from '../history';
import {
  PlanModel,
  requirementName,
  splitRequirements,
  withRequirement
} from '../plan';
import { EnvHelperAPIError } from '../request';
import {
  FakeChangeAPI,
  FakeHost,
  conflictResponse,
  finding,
  job,
  planResponse,
  settle,
  succeeded
} from './fixtures/changes';

describe('PlanModel', () => {
  let api: FakeChangeAPI;
  let host: FakeHost;
  let plan: PlanModel;

  beforeEach(() => {
    api = new FakeChangeAPI();
    host = new FakeHost();
    plan = new PlanModel({ api, host });
  });

  afterEach(() => plan.dispose());

  it('plans for the running kernel and allows Install', async () => {
    void plan.open([' pandas>=2 ']);
    expect(plan.state?.status).toBe('loading');
    expect(api.planCalls[0].args).toEqual([
      { kernelId: 'k-1', specName: 'python3' },
      { requirements: ['pandas>=2'] }
    ]);
    api.planCalls[0].resolve(planResponse());
    await settle();
    expect(plan.state?.status).toBe('ready');
    expect(plan.canInstall).toBe(true);
  });

  it('refuses Install on a blocker or a conflict', async () => {
    void plan.open(['alpha==3.0']);
    api.planCalls[0].resolve(
      planResponse({ findings: [finding('blocker')], verdict: 'blocker' })
    );
    await settle();
    expect(plan.canInstall).toBe(false);
    expect(await plan.confirm()).toBeNull();
    expect(api.startCalls).toHaveLength(0);

    void plan.replan();
    api.planCalls[1].resolve(conflictResponse());
    await settle();
    expect(plan.canInstall).toBe(false);
  });

  it('re-plans with the requirement a finding offers', async () => {
    void plan.open(['alpha==3.0', 'beta']);
    api.planCalls[0].resolve(conflictResponse());
    await settle();

    void plan.runAction({
      kind: 'use-requirement',
      requirement: 'alpha==2.0',
      label: 'Use alpha 2.0'
    });
    expect(api.planCalls).toHaveLength(2);
    expect(api.planCalls[1].args[1]).toEqual({
      requirements: ['alpha==2.0', 'beta']
    });
  });

  it('plans against the backend a GPU finding names, and installs from it', async () => {
    void plan.open(['torch', 'numpy']);
    api.planCalls[0].resolve(planResponse());
    await settle();

    void plan.runAction({
      kind: 'use-requirement',
      requirement: 'torch==2.9.1+cu126',
      torch_backend: 'cu126',
      index_url: 'https://download.pytorch.org/whl/cu126/',
      label: 'Plan torch==2.9.1+cu126 instead'
    });
    // the backend by name, never the URL
    expect(api.planCalls[1].args[1]).toEqual({
      requirements: ['torch==2.9.1+cu126', 'numpy'],
      torch_backend: 'cu126'
    });
    api.planCalls[1].resolve(planResponse());
    await settle();
    void plan.confirm();
    expect(api.startCalls[0].args[1]).toEqual({
      action: 'install',
      requirements: ['pandas>=2'], // what the (fake) plan says it resolved
      fingerprint: 'fp-1',
      torch_backend: 'cu126'
    });
  });

  it("switches the notebook's kernel, then plans for the new one", async () => {
    void plan.open(['alpha==3.0']);
    api.planCalls[0].resolve(conflictResponse());
    await settle();

    const done = plan.runAction({
      kind: 'switch-kernel',
      kernel: 'py312',
      label: 'Switch'
    });
    expect(plan.state?.busy).toBe('switching');
    await done;

    expect(host.session.changeKernelCalls).toEqual(['py312']);
    expect(host.kernel?.specName).toBe('py312');
    // Exactly one new plan, for the new kernel.
    expect(api.planCalls).toHaveLength(2);
    expect(api.planCalls[1].args[0]).toEqual({
      kernelId: 'k-2',
      specName: 'py312'
    });
    expect(plan.state?.busy).toBeNull();
    expect(plan.state?.status).toBe('loading');
  });

  it('restarts the kernel and plans again', async () => {
    void plan.open(['alpha==2.0']);
    api.planCalls[0].resolve(
      planResponse({
        findings: [
          finding('warning', {
            check: 'restart',
            action: { kind: 'restart-kernel', label: 'Restart kernel' }
          })
        ],
        verdict: 'warning'
      })
    );
    await settle();
    expect(plan.canInstall).toBe(true);

    await plan.runAction({ kind: 'restart-kernel', label: 'Restart kernel' });
    expect(host.session.restartCalls).toBe(1);
    expect(api.planCalls).toHaveLength(2);
  });

  it('re-plans when the notebook changes kernel by itself', async () => {
    void plan.open(['pandas']);
    api.planCalls[0].resolve(planResponse());
    await settle();
    host.session.setKernel({ id: 'k-9', name: 'py38' });
    expect(api.planCalls).toHaveLength(2);
    expect(api.planCalls[1].args[0]).toEqual({
      kernelId: 'k-9',
      specName: 'py38'
    });
    // A status change of the same kernel does not.
    host.session.setStatus('busy');
    expect(api.planCalls).toHaveLength(2);
  });

  it('starts the job with the plan fingerprint', async () => {
    void plan.open(['pandas>=2']);
    api.planCalls[0].resolve(planResponse());
    await settle();
    const started = plan.confirm();
    expect(plan.state?.busy).toBe('starting');
    expect(api.startCalls[0].args).toEqual([
      { kernelId: 'k-1', specName: 'python3' },
      { action: 'install', requirements: ['pandas>=2'], fingerprint: 'fp-1' }
    ]);
    api.startCalls[0].resolve({ schema: 1, job: job() });
    expect((await started)?.id).toBe('j-1');
  });

  it('re-plans and asks again when the environment changed', async () => {
    void plan.open(['pandas>=2']);
    api.planCalls[0].resolve(planResponse());
    await settle();
    const started = plan.confirm();
    api.startCalls[0].reject(
      new EnvHelperAPIError({
        kind: 'server',
        status: 409,
        message: 'changed',
        reason: 'changed'
      })
    );
    await settle();
    expect(api.planCalls).toHaveLength(2);
    expect(plan.state?.note).toBe('environment-changed');
    api.planCalls[1].resolve(planResponse({ fingerprint: 'fp-2' }));
    expect(await started).toBeNull();
  });

  it('says why when the environment is busy', async () => {
    void plan.open(['pandas>=2']);
    api.planCalls[0].resolve(planResponse());
    await settle();
    const started = plan.confirm();
    api.startCalls[0].reject(
      new EnvHelperAPIError({
        kind: 'server',
        status: 409,
        message: 'Another change is running in this environment.',
        reason: 'busy'
      })
    );
    expect(await started).toBeNull();
    expect(plan.state?.actionError?.reason).toBe('busy');
    expect(api.planCalls).toHaveLength(1);
  });
});

describe('requirements', () => {
  it('names the project of a requirement', () => {
    expect(requirementName('Pandas_Stubs[x]>=2; python_version>"3"')).toBe(
      'pandas-stubs'
    );
    expect(requirementName('')).toBe('');
  });

  it('replaces the requirement on the same project, or adds it', () => {
    expect(withRequirement(['torch', 'numpy<2'], 'torch==2.4.0+cpu')).toEqual([
      'torch==2.4.0+cpu',
      'numpy<2'
    ]);
    expect(withRequirement(['torch'], 'numpy<2')).toEqual(['torch', 'numpy<2']);
  });
});

describe('HistoryModel', () => {
  it('loads the history and starts undo and uninstall jobs', async () => {
    const api = new FakeChangeAPI();
    const host = new FakeHost();
    const history = new HistoryModel({ api, host });

    void history.load();
    expect(api.historyCalls[0].args).toEqual([
      { kernelId: 'k-1', specName: 'python3' }
    ]);
    api.historyCalls[0].resolve({ schema: 1, jobs: [succeeded()] });
    await settle();
    expect(history.state.jobs).toHaveLength(1);

    const undo = history.undo('j-1');
    expect(history.state.pending).toBe('undo:j-1');
    expect(api.startCalls[0].args).toEqual([
      { kernelId: 'k-1', specName: 'python3' },
      { action: 'undo', job_id: 'j-1' }
    ]);
    api.startCalls[0].resolve({ schema: 1, job: job({ id: 'j-2' }) });
    expect((await undo)?.id).toBe('j-2');
    expect(history.state.pending).toBeNull();

    const uninstall = history.uninstall(['six']);
    expect(api.startCalls[1].args[1]).toEqual({
      action: 'uninstall',
      names: ['six']
    });
    api.startCalls[1].reject(
      new EnvHelperAPIError({ kind: 'server', status: 409, message: 'busy' })
    );
    expect(await uninstall).toBeNull();
    expect(history.state.actionError?.message).toBe('busy');
    history.dispose();
  });
});

describe('ChangesModel', () => {
  it('replaces the plan by the job, and refreshes when it ends', async () => {
    const api = new FakeChangeAPI();
    const host = new FakeHost();
    const changes = new ChangesModel({ api, host, pollMs: 10 });
    const started = jest.fn();
    changes.jobStarted.connect((_, j) => started(j.id));

    void changes.openPlan(['pandas>=2']);
    api.planCalls[0].resolve(planResponse());
    await settle();
    const confirmed = changes.confirm();
    api.startCalls[0].resolve({ schema: 1, job: job({ state: 'running' }) });
    const model = await confirmed;

    expect(model?.id).toBe('j-1');
    expect(changes.plan.state).toBeNull();
    expect(changes.job).toBe(model);
    expect(started).toHaveBeenCalledWith('j-1');
    expect(changes.followsKernelOf(model!)).toBe(true);

    api.feeds[0].push({
      index: 0,
      type: 'state',
      state: 'succeeded',
      job: succeeded({
        outcome: { ...succeeded().outcome!, restart_needed: true }
      })
    });
    api.feeds[0].end();
    await settle();
    api.jobCalls[0].resolve({
      schema: 1,
      job: succeeded({
        outcome: { ...succeeded().outcome!, restart_needed: true }
      })
    });
    await settle();
    expect(model?.finished).toBe(true);
    expect(host.refreshCalls).toBe(1);

    await changes.restartKernelFor(model!);
    expect(host.session.restartCalls).toBe(1);
    expect(changes.restart?.status).toBe('done');

    // Another notebook's kernel: no restart from here.
    host.session.setKernel({ id: 'k-5', name: 'python3' });
    expect(changes.followsKernelOf(model!)).toBe(false);
    changes.dispose();
  });
});

describe('splitRequirements', () => {
  it.each([
    ['pandas>=2', ['pandas>=2']],
    ['pandas>=2 numpy', ['pandas>=2', 'numpy']],
    ['alpha==3.0 beta==2.0', ['alpha==3.0', 'beta==2.0']],
    ['alpha==3.0, beta==2.0', ['alpha==3.0', 'beta==2.0']],
    ['alpha==3.0,beta==2.0', ['alpha==3.0', 'beta==2.0']],
    ['pandas >= 2, < 3', ['pandas >= 2, < 3']],
    ['pandas>=2,<3 numpy', ['pandas>=2,<3', 'numpy']],
    ['pkg[a, b]>=1', ['pkg[a, b]>=1']],
    [
      'pkg; python_version < "3.12" and os_name == "posix"',
      ['pkg; python_version < "3.12" and os_name == "posix"']
    ],
    ['  ', []]
  ])('%s', (text, expected) => {
    expect(splitRequirements(text)).toEqual(expected);
  });
});
