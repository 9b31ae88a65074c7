/**
 * The new-environment flow of the panel (newenv.ts): plan first, then the
 * create job followed to its end, then the notebook switched to the new
 * kernel; a failed job switches nothing.
 */
import {
  INewEnvironmentPlan,
  NewEnvironmentModel,
  newEnvironmentOf
} from '../newenv';

function planOf(
  overrides: Partial<INewEnvironmentPlan> = {}
): INewEnvironmentPlan {
  return {
    schema: 1,
    name: 'py312-new',
    kernel_name: 'py312-new',
    display_name: 'Python 3.12 (py312-new)',
    directory: '/envs/py312-new',
    python: {
      path: '/py/3.12/bin/python',
      version: '3.12.1',
      python_version: '3.12',
      implementation: 'CPython',
      sources: ['pyenv'],
      download: false
    },
    requirements: ['newonly'],
    planned_requirements: ['newonly', 'ipykernel'],
    tried: [],
    ready: true,
    state: 'plan',
    plan: null,
    conflict: null,
    findings: [],
    verdict: 'ok',
    ...overrides
  };
}

function job(state: string): Record<string, unknown> {
  return {
    id: 7,
    kind: 'create',
    state,
    requirements: ['newonly'],
    progress: { phase: 'installing', fraction: 0.5, message: 'Installing' },
    outcome:
      state === 'failed' ? { message: 'Index said 503. Removed again.' } : null
  };
}

function setUp(states: string[], plan = planOf()) {
  const calls: { endPoint: string; init?: RequestInit }[] = [];
  const changeKernel = jest.fn().mockResolvedValue(null);
  const fetch = jest.fn(async (endPoint: string, init?: RequestInit) => {
    calls.push({ endPoint, init });
    if (endPoint === 'environments/plan') {
      return plan;
    }
    if (endPoint === 'environments') {
      return { schema: 1, job: job('running'), environment: {} };
    }
    return { schema: 1, job: job(states.shift() ?? 'succeeded') };
  });
  const model = new NewEnvironmentModel({
    host: { source: { changeKernel } as any },
    fetch: fetch as any,
    pollMs: 1
  });
  return { model, calls, changeKernel };
}

describe('NewEnvironmentModel', () => {
  it('plans, creates, follows the job and switches the notebook', async () => {
    const { model, calls, changeKernel } = setUp(['running', 'succeeded']);
    await model.open({ requirements: ['newonly'] });
    expect(model.state?.status).toBe('planned');
    expect(model.state?.name).toBe('py312-new');
    expect(calls.map(c => c.endPoint)).toEqual(['environments/plan']);
    expect(model.canCreate).toBe(true);
    await model.create();
    expect(model.state?.status).toBe('done');
    const created = calls.find(c => c.endPoint === 'environments')!;
    expect(JSON.parse(String(created.init?.body))).toEqual({
      name: 'py312-new',
      requirements: ['newonly'],
      python_version: '3.12',
      allow_download: false
    });
    expect(
      (created.init?.headers as Record<string, string>)['Content-Type']
    ).toBe('application/json');
    expect(calls.filter(c => c.endPoint === 'jobs/7')).toHaveLength(2);
    expect(changeKernel).toHaveBeenCalledWith({ name: 'py312-new' });
  });

  it('does not switch when the job fails, and says why', async () => {
    const { model, changeKernel } = setUp(['failed']);
    await model.open({ requirements: ['newonly'] });
    await model.create();
    expect(model.state?.status).toBe('failed');
    expect(model.state?.job?.outcome?.message).toContain('Removed again');
    expect(changeKernel).not.toHaveBeenCalled();
  });

  it('refuses a blocked plan and a bad name', async () => {
    const blocked = setUp([], planOf({ ready: false, verdict: 'blocker' }));
    await blocked.model.open({ requirements: ['newonly'] });
    expect(blocked.model.canCreate).toBe(false);
    await blocked.model.create();
    expect(blocked.calls.map(c => c.endPoint)).toEqual(['environments/plan']);

    const named = setUp([]);
    await named.model.open({ requirements: ['newonly'] });
    named.model.setName('Bad Name');
    expect(named.model.canCreate).toBe(false);
  });

  it('reads a suggestion action as a request', () => {
    expect(
      newEnvironmentOf({
        kind: 'new-environment',
        requirements: ['newonly'],
        python_version: '3.12',
        name: 'py312-newonly'
      })
    ).toEqual({
      requirements: ['newonly'],
      python_version: '3.12',
      name: 'py312-newonly'
    });
    expect(newEnvironmentOf({ kind: 'switch-kernel', kernel: 'x' })).toBeNull();
  });
});
