import { render, screen, fireEvent } from '@testing-library/react';
import * as React from 'react';

import { IEnableMagicResponse, IKernelRef } from '../api';
import {
  EnvironmentView,
  gpuWords,
  hasMagic
} from '../components/EnvironmentView';
import { JobView } from '../components/JobView';
import { PlanView } from '../components/PlanView';
import { ChangesModel } from '../changes';
import { HistoryView } from '../components/HistoryView';
import { HistoryModel } from '../history';
import { JobModel } from '../job';
import { RescueBanner } from '../components/RescueBanner';
import { IRescueSession, RescueModel } from '../rescue';
import { Signal } from '@lumino/signaling';
import { IPlanState, PlanModel } from '../plan';
import {
  FakeChangeAPI,
  FakeHost,
  finding,
  job,
  planResponse,
  settle,
  succeeded
} from './fixtures/changes';
import { environmentResponse, trans } from './fixtures/responses';

class EnableAPI extends FakeChangeAPI {
  enableCalls: IKernelRef[] = [];
  answer: Partial<IEnableMagicResponse> = {};
  enableMagic(ref: IKernelRef): Promise<IEnableMagicResponse> {
    this.enableCalls.push(ref);
    return Promise.resolve({
      requirement: 'jupyter-envhelper-kernel==0.1.0+k123',
      needed: true,
      ...this.answer
    } as IEnableMagicResponse);
  }
}

const kernel = {
  displayName: 'Python 3 (ipykernel)',
  specName: 'python3',
  kernelId: 'k-1',
  status: 'idle' as const
};

describe('Enable %envhelp in this kernel', () => {
  it('plans the exact kernel package the server builds', async () => {
    const api = new EnableAPI();
    const plan = new PlanModel({ api, host: new FakeHost() });
    const opened = plan.openEnableMagic();
    expect(plan.state?.status).toBe('loading');
    await settle();
    expect(api.enableCalls).toEqual([{ kernelId: 'k-1', specName: 'python3' }]);
    expect(api.planCalls[0].args[1]).toEqual({
      requirements: ['jupyter-envhelper-kernel==0.1.0+k123']
    });
    api.planCalls[0].resolve(planResponse());
    await opened;
    expect(plan.canInstall).toBe(true);
    plan.dispose();
  });

  it('is offered only when neither distribution is installed', () => {
    expect(hasMagic([{ name: 'jupyter_envhelper' }])).toBe(true);
    expect(hasMagic([{ name: 'Jupyter-EnvHelper-Kernel' }])).toBe(true);
    expect(hasMagic([{ name: 'ipykernel' }])).toBe(false);
    const onEnable = jest.fn();
    const { unmount } = render(
      <EnvironmentView
        kernel={kernel}
        state={{
          status: 'ready',
          response: environmentResponse(),
          error: null
        }}
        trans={trans}
        onRefresh={() => undefined}
        onEnableMagic={onEnable}
      />
    );
    fireEvent.click(screen.getByText('Enable %envhelp in this kernel'));
    expect(onEnable).toHaveBeenCalledTimes(1);
    unmount();
    const withMagic = environmentResponse();
    withMagic.environment!.distributions.push({
      name: 'jupyter-envhelper-kernel',
      version: '0.1.0',
      summary: null,
      installer: 'uv',
      editable: false,
      requires_python: null,
      location: '/srv/venv/lib/python3.11/site-packages'
    });
    render(
      <EnvironmentView
        kernel={kernel}
        state={{ status: 'ready', response: withMagic, error: null }}
        trans={trans}
        onRefresh={() => undefined}
        onEnableMagic={onEnable}
      />
    );
    expect(screen.queryByText('Enable %envhelp in this kernel')).toBeNull();
  });
});

function renderPlanOf(response = planResponse()) {
  const state: IPlanState = {
    requirements: ['pandas>=2'],
    options: {},
    status: 'ready',
    response,
    error: null,
    kernelName: 'Python 3 (ipykernel)',
    note: null,
    busy: null,
    actionError: null
  };
  return render(
    <PlanView
      state={state}
      canInstall={true}
      currentKernel="python3"
      trans={trans}
      onInstall={() => undefined}
      onClose={() => undefined}
      onReplan={() => undefined}
      onAction={() => undefined}
    />
  );
}

describe('warnings where they are seen', () => {
  it('puts blockers and gigabyte warnings above the package list', () => {
    const { container } = renderPlanOf(
      planResponse({
        findings: [
          finding('info', { check: 'vulnerable', message: 'No data.' }),
          finding('warning', { check: 'size', message: 'A 3.0 GB download.' }),
          finding('blocker', { check: 'python', message: 'Needs 3.12.' })
        ],
        verdict: 'blocker'
      })
    );
    const body = container.querySelector('.jp-EnvHelper-planBody')!;
    const before = (text: string) =>
      screen.getByText(text).compareDocumentPosition(body) &
      Node.DOCUMENT_POSITION_FOLLOWING;
    expect(before('Needs 3.12.')).toBeTruthy();
    expect(before('A 3.0 GB download.')).toBeTruthy();
    expect(before('No data.')).toBeFalsy();
  });

  it('says on the Install button what it installs', () => {
    const { container } = renderPlanOf();
    const button = container.querySelector(
      '.jp-EnvHelper-install'
    ) as HTMLButtonElement;
    expect(button.textContent).toBe('Install 3 packages, 30.3 MB');
    // the accessible name stays "Install" (the detail is hidden from it)
    expect(
      button.querySelector('[aria-hidden="true"]')?.textContent?.trim()
    ).toBe('3 packages, 30.3 MB');
  });

  it('offers no Install when nothing would change', () => {
    const response = planResponse();
    response.plan!.actions = response.plan!.actions.map(a => ({
      ...a,
      kind: 'keep'
    }));
    const { container } = renderPlanOf(response);
    const button = container.querySelector(
      '.jp-EnvHelper-install'
    ) as HTMLButtonElement;
    expect(button.textContent).toBe('Nothing to change');
    expect(button.disabled).toBe(true);
  });
});

function renderJobOf(model: JobModel) {
  return render(
    <JobView
      job={model}
      canRestart
      restart={null}
      trans={trans}
      onCancel={() => undefined}
      onClose={() => undefined}
      onRestart={() => undefined}
    />
  );
}

describe('words that do not contradict each other', () => {
  it('a cancelled install that changed nothing says so once', () => {
    const cancel = 'The job was cancelled and its installer stopped.';
    const model = new JobModel({
      api: new FakeChangeAPI(),
      job: job({
        state: 'cancelled',
        finished: '2026-11-21T10:00:09Z',
        outcome: {
          message: cancel + ' Nothing was changed.',
          failure: {
            kind: 'cancelled',
            message: cancel,
            way_out: 'See the changes below; undo the job to go back.',
            detail: null
          },
          changed: [],
          differences: [],
          restart_needed: false,
          restart_modules: []
        } as any
      })
    });
    const { container } = renderJobOf(model);
    const outcome = container.querySelector('.jp-EnvHelper-outcome')!;
    expect(outcome.textContent).toBe('Cancelled: nothing was changed.');
    model.dispose();
  });

  it('an undo that removed a package does not promise a new version', () => {
    const base = succeeded({ kind: 'undo' });
    const model = new JobModel({
      api: new FakeChangeAPI(),
      job: {
        ...base,
        outcome: {
          ...base.outcome!,
          message: 'Done: six removed.',
          changed: [
            { name: 'six', kind: 'removed', before: '1.17.0', after: null }
          ],
          restart_needed: true,
          restart_modules: ['six']
        }
      }
    });
    const { container } = renderJobOf(model);
    const words = container.querySelector(
      '.jp-EnvHelper-restartNeeded'
    )!.textContent;
    expect(words).not.toContain('new version');
    expect(words).toContain('stops using what was removed');
    model.dispose();
  });
});

describe('views follow the active kernel and the last action', () => {
  it("drops the old kernel's job text after a kernel switch", async () => {
    const api = new FakeChangeAPI();
    const host = new FakeHost();
    const changes = new ChangesModel({ api, host, pollMs: 10 });
    void changes.openPlan(['pandas>=2']);
    api.planCalls[0].resolve(planResponse());
    await settle();
    const confirmed = changes.confirm();
    api.startCalls[0].resolve({ schema: 1, job: job({ state: 'running' }) });
    const shown = await confirmed;
    expect(changes.job).toBe(shown);
    host.session.setKernel({ id: 'k-9', name: 'other' });
    expect(changes.job).toBeNull();
    // the job is still followed (its notification), only not shown
    expect(changes.jobs).toContain(shown);
    changes.dispose();
  });

  function rescueOf(installer: any) {
    const api = {
      rescue: () =>
        Promise.resolve({
          schema: 1,
          module: 'yaml',
          kernel: {} as any,
          distribution: {
            name: 'PyYAML',
            canonical_name: 'pyyaml',
            match: 'import-name',
            summary: null,
            version: '6.0.4'
          },
          candidates: [],
          installed_here: [],
          verdict: 'ok',
          message: 'This kernel can take PyYAML 6.0.4.',
          fingerprint: 'fp',
          kernels_with_module: [
            {
              name: 'other',
              display_name: 'Other',
              python_version: '3.12',
              distribution: 'PyYAML',
              version: '6.0.4'
            }
          ]
        })
    };
    const session = {
      session: { kernel: { id: 'k-1', name: 'python3' } },
      kernelDisplayName: 'Python 3',
      changeKernel: jest.fn(async () => null),
      restartKernel: jest.fn(async () => undefined)
    } as unknown as IRescueSession;
    return new RescueModel({
      api: api as any,
      session,
      module: 'yaml',
      installer,
      rerun: () => undefined
    });
  }

  function banner(model: RescueModel) {
    return render(
      <RescueBanner
        state={model.state}
        canInstall={model.canInstall}
        busy={model.busy}
        trans={trans}
        onInstall={() => undefined}
        onSwitch={() => undefined}
        onRestart={() => undefined}
        onRerun={() => undefined}
        onDismiss={() => undefined}
      />
    );
  }

  it('says the plan was closed when it is cancelled, and offers Install again', async () => {
    const planChanged = new Signal<object, unknown>({});
    const installer = {
      jobStarted: new Signal<object, any>({}),
      planChanged,
      openPlan: jest.fn()
    };
    const model = rescueOf(installer);
    await model.start();
    await model.installHere();
    expect(model.state.step?.kind).toBe('planning');
    planChanged.emit(null);
    expect(model.state.step?.kind).toBe('plan-closed');
    expect(model.canInstall).toBe(true);
    const { container } = banner(model);
    expect(container.textContent).not.toContain('Check the plan');
    expect(container.textContent).toContain(
      'The plan for PyYAML was closed: nothing was installed.'
    );
    model.dispose();
  });

  it('a confirmed plan still follows its job', async () => {
    const planChanged = new Signal<object, unknown>({});
    const jobStarted = new Signal<object, any>({});
    const model = rescueOf({ jobStarted, planChanged, openPlan: jest.fn() });
    await model.start();
    await model.installHere();
    planChanged.emit(null); // the plan closes as its job starts
    jobStarted.emit({
      job: job({ state: 'running', requirements: ['PyYAML'] }),
      ref: { kernelId: 'k-1' },
      ended: new Signal<object, any>({})
    });
    expect(model.state.step?.kind).toBe('installing');
    model.dispose();
  });

  it("drops the old kernel's verdict after a switch", async () => {
    const model = rescueOf(null);
    await model.start();
    await model.switchTo('other');
    const { container } = banner(model);
    expect(container.textContent).not.toContain('This kernel can take');
    expect(container.textContent).toContain('The notebook now runs Other.');
    model.dispose();
  });
});

describe('undo asks first', () => {
  class PreviewAPI extends FakeChangeAPI {
    previews: string[] = [];
    undoPreview(_ref: IKernelRef, jobId: string) {
      this.previews.push(jobId);
      return Promise.resolve({
        schema: 1,
        job_id: Number(jobId),
        plan: {
          ...planResponse().plan!,
          actions: [
            {
              ...planResponse().plan!.actions[0],
              kind: 'remove',
              name: 'tabulate',
              canonical_name: 'tabulate',
              version: null,
              installed_version: '0.10.0'
            }
          ]
        },
        unavailable: [],
        drifted: []
      });
    }
  }

  it('shows what the undo changes, and runs only on Confirm undo', async () => {
    const api = new PreviewAPI();
    const history = new HistoryModel({ api, host: new FakeHost() });
    const entry = succeeded({
      id: 4,
      requirements: ['tabulate'],
      outcome: {
        ...succeeded().outcome!,
        changed: [
          { name: 'tabulate', kind: 'installed', before: null, after: '0.10.0' }
        ]
      }
    });
    const state = () => ({
      ...history.state,
      status: 'ready' as const,
      jobs: [entry]
    });
    const onUndo = jest.fn();
    const view = (): JSX.Element => (
      <HistoryView
        state={state()}
        trans={trans}
        onUndo={onUndo}
        onRetry={() => undefined}
        onPreviewUndo={id => void history.previewUndo(id)}
        onCancelUndo={() => history.cancelUndo()}
      />
    );
    const { rerender, container } = render(view());
    fireEvent.click(screen.getByRole('button', { name: /^Undo/ }));
    await settle();
    rerender(view());
    expect(api.previews).toEqual(['4']);
    expect(onUndo).not.toHaveBeenCalled();
    expect(api.startCalls).toHaveLength(0);
    expect(
      container.querySelector('.jp-EnvHelper-undoConfirm')?.textContent
    ).toContain('remove tabulate 0.10.0');
    fireEvent.click(screen.getByRole('button', { name: 'Keep as it is' }));
    rerender(view());
    expect(container.querySelector('.jp-EnvHelper-undoConfirm')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: /^Undo/ }));
    await settle();
    rerender(view());
    fireEvent.click(screen.getByRole('button', { name: 'Confirm undo' }));
    expect(onUndo).toHaveBeenCalledWith('4');
    history.dispose();
  });
});

describe('plain words, detail one hover away', () => {
  it('names the platform for a person, the C library in the title', () => {
    const { container } = render(
      <EnvironmentView
        kernel={kernel}
        state={{
          status: 'ready',
          response: environmentResponse(),
          error: null
        }}
        trans={trans}
        onRefresh={() => undefined}
      />
    );
    const platform = screen.getByText('Linux, 64-bit Intel/AMD');
    expect(platform.getAttribute('title')).toBe('Linux x86_64, glibc 2.36');
    expect(container.textContent).not.toContain('glibc');
    expect(container.textContent).not.toContain('distributions');
  });

  it('keeps the wheel platform tag out of the plan text', () => {
    const { container } = renderPlanOf();
    const target = container.querySelector('.jp-EnvHelper-planTarget')!;
    expect(target.textContent).not.toContain('manylinux');
    expect(target.getAttribute('title')).toBe('manylinux_2_36_x86_64');
  });
});

describe('the GPU line', () => {
  it('says there is none in plain words, the detail in the title', () => {
    const summary =
      'No NVIDIA GPU found: no NVIDIA driver (libcuda.so.1) and no nvidia-smi were found (CUDA toolkit 13.0 installed)';
    expect(gpuWords(summary, trans)).toBe('None: packages run on the CPU');
    expect(gpuWords('NVIDIA driver 535, 1× A100', trans)).toBe(
      'NVIDIA driver 535, 1× A100'
    );
    const response = environmentResponse();
    response.environment!.gpu = { summary };
    render(
      <EnvironmentView
        kernel={kernel}
        state={{ status: 'ready', response, error: null }}
        trans={trans}
        onRefresh={() => undefined}
      />
    );
    const line = screen.getByText('None: packages run on the CPU');
    expect(line.getAttribute('title')).toBe(summary);
  });
});
