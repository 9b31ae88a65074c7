import { act, fireEvent, render, screen } from '@testing-library/react';
import * as React from 'react';

import { ChangesModel } from '../changes';
import { EnvHelperView } from '../components/EnvHelperView';
import { HistoryView } from '../components/HistoryView';
import { JobView } from '../components/JobView';
import { PlanView } from '../components/PlanView';
import { JobModel } from '../job';
import { EnvHelperModel } from '../model';
import { IPlanState } from '../plan';
import {
  FakeChangeAPI,
  conflictResponse,
  finding,
  job,
  planResponse,
  settle,
  succeeded
} from './fixtures/changes';
import { FakeAPI, FakeSession } from './fixtures/fakes';
import {
  environmentResponse,
  searchResponse,
  trans
} from './fixtures/responses';

function planState(overrides: Partial<IPlanState> = {}): IPlanState {
  return {
    requirements: ['pandas>=2'],
    options: {},
    status: 'ready',
    response: planResponse(),
    error: null,
    kernelName: 'Python 3 (ipykernel)',
    note: null,
    busy: null,
    actionError: null,
    ...overrides
  };
}

function renderPlan(state: IPlanState, canInstall = true) {
  const handlers = {
    onInstall: jest.fn(),
    onClose: jest.fn(),
    onReplan: jest.fn(),
    onAction: jest.fn()
  };
  const result = render(
    <PlanView
      state={state}
      canInstall={canInstall}
      currentKernel="python3"
      trans={trans}
      {...handlers}
    />
  );
  return { ...result, ...handlers };
}

describe('PlanView', () => {
  it('lists the changes, upgrades and downgrades standing out', () => {
    const { container, onInstall } = renderPlan(planState());
    expect(screen.getByText('Install pandas>=2')).toBeTruthy();
    expect(
      screen.getByText('into Python 3 (ipykernel) (Python 3.11.7)')
    ).toBeTruthy();
    expect(
      container.querySelector('.jp-EnvHelper-planSummary')?.textContent
    ).toBe('1 to install, 1 upgrade, 1 downgrade · download 30.3 MB');
    const rows = [...container.querySelectorAll('.jp-EnvHelper-action')];
    expect(rows.map(r => r.getAttribute('data-name'))).toEqual([
      'pandas',
      'numpy',
      'tzdata'
    ]);
    const numpy = container.querySelector('.jp-EnvHelper-action-upgrade')!;
    expect(numpy.textContent).toContain('1.24.0 → 1.26.4');
    expect(numpy.textContent).toContain('for pandas 2.2.3 (numpy>=1.26)');
    expect(
      container.querySelector('.jp-EnvHelper-action-downgrade')?.textContent
    ).toContain('2025.1 → 2024.1');
    // Unchanged ones on demand.
    fireEvent.click(screen.getByText('Show 1 package that stays as it is'));
    expect(container.querySelector('.jp-EnvHelper-action-keep')).not.toBeNull();
    // What it breaks.
    expect(
      screen.getByText(
        'Your oldlib 1.0 needs numpy<1.25, but the plan installs numpy 1.26.4.'
      )
    ).toBeTruthy();

    const install = screen.getByText('Install') as HTMLButtonElement;
    expect(install.disabled).toBe(false);
    fireEvent.click(install);
    expect(onInstall).toHaveBeenCalledTimes(1);
  });

  it('colours findings by severity and disables Install on a blocker', () => {
    const response = planResponse({
      findings: [
        finding('info', { check: 'size', message: 'A 30 MB download.' }),
        finding('blocker', {
          check: 'python',
          message: 'pandas 3 needs Python >= 3.12.'
        }),
        finding('warning', {
          check: 'restart',
          message: 'numpy is imported already.',
          action: { kind: 'restart-kernel', label: 'Restart kernel' }
        })
      ],
      verdict: 'blocker'
    });
    const { container, onAction } = renderPlan(planState({ response }), false);
    const items = [...container.querySelectorAll('.jp-EnvHelper-finding')];
    // Blockers first.
    expect(items.map(i => i.className.split('severity-')[1])).toEqual([
      'blocker',
      'warning',
      'info'
    ]);
    expect(items[0].textContent).toContain('Blocker');
    const install = screen.getByText('Install') as HTMLButtonElement;
    expect(install.disabled).toBe(true);
    expect(install.title).toBe(
      'Cannot install: pandas 3 needs Python >= 3.12.'
    );

    fireEvent.click(screen.getByText('Restart kernel'));
    expect(onAction).toHaveBeenCalledWith({
      kind: 'restart-kernel',
      label: 'Restart kernel'
    });
  });

  it('shows the GPU fit above the list of packages, with its one-click build', () => {
    const action = {
      kind: 'use-requirement',
      requirement: 'torch==2.9.1+cu126',
      torch_backend: 'cu126',
      label: 'Plan torch==2.9.1+cu126 instead'
    };
    const response = planResponse({
      findings: [
        finding('info', { check: 'size', message: 'A 30 MB download.' }),
        finding('blocker', {
          check: 'gpu',
          message: "NVIDIA GeForce GTX 1080 (sm_61) can't run it.",
          action
        })
      ],
      verdict: 'blocker'
    });
    const { container, onAction } = renderPlan(planState({ response }), false);
    const gpu = screen.getByLabelText('GPU');
    const body = container.querySelector('.jp-EnvHelper-planBody')!;
    // the GPU list comes before the package list in the document
    expect(
      gpu.compareDocumentPosition(body) & Node.DOCUMENT_POSITION_FOLLOWING
    ).toBeTruthy();
    expect(gpu.textContent).toContain('GTX 1080');
    expect(screen.getByLabelText('Findings').textContent).toContain('30 MB');
    fireEvent.click(screen.getByText('Plan torch==2.9.1+cu126 instead'));
    expect(onAction).toHaveBeenCalledWith(action);
  });

  it('explains a conflict, its ways out and the kernels that can take it', () => {
    const { container, onAction } = renderPlan(
      planState({ response: conflictResponse() }),
      false
    );
    expect(
      screen.getByText(
        'alpha 3.0 needs Python 3.12 or newer; this kernel has 3.11.7.'
      )
    ).toBeTruthy();
    expect(
      screen.getByText('alpha 3.0 needs Python >=3.12; this kernel has 3.11.7')
    ).toBeTruthy();
    fireEvent.click(screen.getByText('Use alpha 2.0'));
    expect(onAction).toHaveBeenLastCalledWith(
      expect.objectContaining({
        kind: 'use-requirement',
        requirement: 'alpha==2.0'
      })
    );

    const suggestions = container.querySelectorAll('.jp-EnvHelper-suggestion');
    expect(suggestions).toHaveLength(2);
    expect(suggestions[0].textContent).toContain(
      'can take it without changing anything'
    );
    // No Switch to a kernel that cannot take it.
    expect(suggestions[1].querySelector('button')).toBeNull();
    fireEvent.click(screen.getByLabelText('Switch to Python 3.12 (py312)'));
    expect(onAction).toHaveBeenLastCalledWith(
      expect.objectContaining({ kind: 'switch-kernel', kernel: 'py312' })
    );
    expect((screen.getByText('Install') as HTMLButtonElement).disabled).toBe(
      true
    );
  });
});

describe('JobView', () => {
  function renderJob(model: JobModel, canRestart = true) {
    const handlers = {
      onCancel: jest.fn(),
      onClose: jest.fn(),
      onRestart: jest.fn()
    };
    const result = render(
      <JobView
        job={model}
        canRestart={canRestart}
        restart={null}
        trans={trans}
        {...handlers}
      />
    );
    return { ...result, ...handlers };
  }

  it('shows a real progress bar, the package and bytes, and Cancel', () => {
    const model = new JobModel({
      api: new FakeChangeAPI(),
      job: job({
        state: 'running',
        progress: {
          phase: 'downloading',
          fraction: 0.42,
          bytes_done: 4_200_000,
          bytes_total: 10_000_000,
          package: 'numpy',
          message: ''
        },
        log_tail: ['Collecting numpy']
      }),
      kernelName: 'Python 3 (ipykernel)'
    });
    const { onCancel } = renderJob(model);
    const bar = screen.getByRole('progressbar');
    expect(bar.getAttribute('aria-valuenow')).toBe('42');
    expect(screen.getByText('Downloading')).toBeTruthy();
    expect(screen.getByText('4.2 MB of 10.0 MB')).toBeTruthy();
    fireEvent.click(screen.getByText('Cancel'));
    expect(onCancel).toHaveBeenCalled();
    // The log on demand.
    expect(screen.queryByText('Collecting numpy')).toBeNull();
    fireEvent.click(screen.getByText('Show the log'));
    expect(screen.getByText('Collecting numpy')).toBeTruthy();
  });

  it('offers Restart kernel when the kernel imported the old version', () => {
    const base = succeeded();
    const model = new JobModel({
      api: new FakeChangeAPI(),
      job: {
        ...base,
        outcome: {
          ...base.outcome!,
          restart_needed: true,
          restart_modules: ['numpy']
        }
      }
    });
    const { onRestart } = renderJob(model);
    expect(screen.getByText('Installed pandas 2.2.3.')).toBeTruthy();
    expect(screen.getByText('numpy 1.24.0 → 1.26.4')).toBeTruthy();
    expect(screen.queryByRole('progressbar')).toBeNull();
    fireEvent.click(screen.getByText('Restart kernel'));
    expect(onRestart).toHaveBeenCalled();
  });

  it('says when the kernel restarted (job numbers included)', () => {
    const base = succeeded({ id: 3 });
    const model = new JobModel({
      api: new FakeChangeAPI(),
      job: {
        ...base,
        outcome: { ...base.outcome!, restart_needed: true }
      }
    });
    render(
      <JobView
        job={model}
        canRestart
        restart={{ jobId: '3', status: 'done', error: null }}
        trans={trans}
        onCancel={() => undefined}
        onClose={() => undefined}
        onRestart={() => undefined}
      />
    );
    expect(
      screen.getByText('The kernel restarted: ready to import.')
    ).toBeTruthy();
    expect(screen.queryByText('Restart kernel')).toBeNull();
  });

  it('says ready to import, or why it failed and the way out', () => {
    renderJob(
      new JobModel({ api: new FakeChangeAPI(), job: succeeded() })
    ).unmount();
    expect(document.body.textContent).toBe('');
    renderJob(new JobModel({ api: new FakeChangeAPI(), job: succeeded() }));
    expect(screen.getByText('Ready to import.')).toBeTruthy();

    render(
      <JobView
        job={
          new JobModel({
            api: new FakeChangeAPI(),
            job: job({
              id: 'j-2',
              state: 'failed',
              outcome: {
                message: 'The install failed.',
                failure: {
                  kind: 'build-failed',
                  message: 'gamma could not be built from source.',
                  way_out: 'Install gamma 0.4, which has a wheel.'
                },
                changed: [],
                differences: [],
                restart_needed: false,
                restart_modules: []
              }
            })
          })
        }
        canRestart
        restart={null}
        trans={trans}
        onCancel={() => undefined}
        onClose={() => undefined}
        onRestart={() => undefined}
      />
    );
    expect(screen.getByRole('alert').textContent).toContain(
      'gamma could not be built from source.'
    );
    expect(
      screen.getByText('Install gamma 0.4, which has a wheel.')
    ).toBeTruthy();
  });
});

describe('HistoryView', () => {
  it('lists jobs newest first with Undo', () => {
    const onUndo = jest.fn();
    render(
      <HistoryView
        state={{
          status: 'ready',
          jobs: [
            succeeded({ id: 'j-2' }),
            job({
              id: 'j-1',
              state: 'failed',
              finished: '2026-11-21T09:00:00Z'
            })
          ],
          error: null,
          pending: null,
          actionError: null
        }}
        trans={trans}
        onUndo={onUndo}
        onRetry={() => undefined}
      />
    );
    const undo = screen.getAllByText('Undo');
    // The failed job changed nothing: nothing to undo.
    expect(undo).toHaveLength(1);
    fireEvent.click(undo[0]);
    expect(onUndo).toHaveBeenCalledWith('j-2');
    expect(
      screen.getByText('+ pandas 2.2.3, numpy 1.24.0 → 1.26.4')
    ).toBeTruthy();
  });
});

describe('EnvHelperView with changes', () => {
  it('plans from a search hit, installs, and uninstalls from the list', async () => {
    jest.useFakeTimers();
    const api = new FakeAPI();
    const changeApi = new FakeChangeAPI();
    const model = new EnvHelperModel({ api, idleRefreshMs: 0 });
    const changes = new ChangesModel({ api: changeApi, host: model });
    const session = new FakeSession();
    model.setSource(session.asSource);
    api.environmentCalls[0].resolve(environmentResponse());
    await settle();

    const view = () => (
      <EnvHelperView model={model} changes={changes} trans={trans} />
    );
    const { rerender } = render(view());
    const update = async () => {
      await act(async () => {
        await settle();
      });
      rerender(view());
    };

    // Uninstall asks first.
    fireEvent.click(screen.getAllByLabelText(/^Uninstall /)[0]);
    fireEvent.click(screen.getByText('Uninstall'));
    expect(changeApi.startCalls[0].args[1]).toMatchObject({
      action: 'uninstall'
    });

    model.view = 'search';
    model.setQuery('requests');
    jest.advanceTimersByTime(250);
    api.searchCalls[0].resolve(searchResponse('requests'));
    await update();

    fireEvent.click(screen.getByLabelText('Install requests'));
    expect(changeApi.planCalls[0].args[1]).toEqual({
      requirements: ['requests']
    });
    changeApi.planCalls[0].resolve(planResponse());
    await update();
    expect(screen.getByText('Install requests')).toBeTruthy();

    fireEvent.click(screen.getByText('Install'));
    changeApi.startCalls[1].resolve({
      schema: 1,
      job: job({ id: 'j-7', state: 'running' })
    });
    await update();
    expect(screen.getByRole('progressbar')).toBeTruthy();

    // One box: what is typed there can be planned as it is.
    fireEvent.click(screen.getByLabelText('Back to the list'));
    await update();
    fireEvent.change(screen.getByLabelText('Search the package index'), {
      target: { value: 'pandas>=2' }
    });
    await update();
    fireEvent.click(screen.getByLabelText('Plan install of pandas>=2'));
    expect(changeApi.planCalls[1].args[1]).toEqual({
      requirements: ['pandas>=2']
    });

    changes.dispose();
    model.dispose();
    jest.useRealTimers();
  });
});
