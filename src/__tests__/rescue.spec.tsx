// jsdom has no DragEvent, which Lumino's drag and drop needs when loaded.
jest.mock('@lumino/dragdrop', () => {
  const g = globalThis as any;
  g.DragEvent ??= class DragEvent extends MouseEvent {};
  return jest.requireActual('@lumino/dragdrop');
});

import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';
import { act, fireEvent, render, screen } from '@testing-library/react';
import * as React from 'react';

import {
  IJob,
  IKernelRef,
  IRescueAPI,
  IRescueResponse,
  RescueVerdict
} from '../api';
import { RescueBanner, RescueBannerView } from '../components/RescueBanner';
import {
  IRescueJob,
  IRescueSession,
  IRescueState,
  RescueController,
  RescueModel,
  missingModule,
  requirementName
} from '../rescue';
import { EnvHelperAPIError } from '../request';
import { job, settle, succeeded } from './fixtures/changes';
import { trans } from './fixtures/responses';

function rescueResponse(
  overrides: Partial<IRescueResponse> = {}
): IRescueResponse {
  return {
    schema: 1,
    module: 'cv2',
    kernel: {
      name: 'python3',
      display_name: 'Python 3 (ipykernel)',
      language: 'python',
      kernel_id: 'k-1',
      interpreter: '/usr/bin/python3',
      interpreter_source: 'kernel',
      spec_interpreter: null,
      confirmed_by_kernel: true,
      mismatch: null
    },
    distribution: {
      name: 'opencv-python',
      canonical_name: 'opencv-python',
      match: 'import-name',
      why: "provides the module 'cv2'",
      summary: 'Wrapper package for OpenCV python bindings.',
      version: '4.10.0.84',
      on_index: true
    },
    candidates: [],
    installed_here: [],
    verdict: 'ok',
    message: 'This kernel can take opencv-python (2 packages).',
    fingerprint: 'fp-1',
    kernels_with_module: [],
    ...overrides
  };
}

class FakeRescueAPI implements IRescueAPI {
  calls: { module: string; ref: IKernelRef }[] = [];
  pending: {
    resolve: (r: IRescueResponse) => void;
    reject: (e: unknown) => void;
  }[] = [];

  rescue(module: string, ref: IKernelRef): Promise<IRescueResponse> {
    this.calls.push({ module, ref });
    return new Promise((resolve, reject) =>
      this.pending.push({ resolve, reject })
    );
  }
}

function fakeSession(): IRescueSession & {
  changeKernel: jest.Mock;
  restartKernel: jest.Mock;
} {
  return {
    session: { kernel: { id: 'k-1', name: 'python3' } },
    kernelDisplayName: 'Python 3 (ipykernel)',
    changeKernel: jest.fn(async () => null),
    restartKernel: jest.fn(async () => undefined)
  } as any;
}

class FakeJob implements IRescueJob {
  constructor(
    public job: IJob,
    public ref: IKernelRef = { kernelId: 'k-1' }
  ) {}
  ended = new Signal<this, IJob>(this);
}

class FakeInstaller {
  jobStarted = new Signal<this, IRescueJob>(this);
  openPlan = jest.fn();
}

async function readyModel(
  response: IRescueResponse = rescueResponse(),
  installer: FakeInstaller | null = new FakeInstaller()
) {
  const api = new FakeRescueAPI();
  const session = fakeSession();
  const rerun = jest.fn();
  const model = new RescueModel({
    api,
    session,
    module: 'cv2',
    installer,
    rerun
  });
  const started = model.start();
  api.pending[0].resolve(response);
  await started;
  return { api, session, rerun, model, installer };
}

describe('missingModule', () => {
  it.each([
    [{ ename: 'ModuleNotFoundError', evalue: "No module named 'cv2'" }, 'cv2'],
    [
      { ename: 'ModuleNotFoundError', evalue: "No module named 'sklearn.svm'" },
      'sklearn'
    ],
    [
      { errorName: 'ModuleNotFoundError', errorValue: "No module named 'PIL'" },
      'PIL'
    ],
    [{ ename: 'ImportError', evalue: 'No module named yaml' }, 'yaml'],
    [{ ename: 'ImportError', evalue: "No module named 'a.b.c'" }, 'a']
  ])('reads the top-level module of %j', (error, expected) => {
    expect(missingModule(error)).toBe(expected);
  });

  it.each([
    [{ ename: 'NameError', evalue: "name 'cv2' is not defined" }],
    [{ ename: 'ValueError', evalue: "No module named 'cv2'" }],
    [
      {
        ename: 'ImportError',
        evalue: "cannot import name 'foo' from 'bar' (/x/bar.py)"
      }
    ],
    [{ ename: 'ModuleNotFoundError', evalue: "No module named '..'" }],
    [null],
    [undefined],
    ['ModuleNotFoundError']
  ])('ignores %j', error => {
    expect(missingModule(error)).toBeNull();
  });
});

describe('requirementName', () => {
  it('normalizes the project name of a requirement', () => {
    expect(requirementName('Opencv_Python>=4')).toBe('opencv-python');
    expect(requirementName(' envhelper.demo [x]')).toBe('envhelper-demo');
  });
});

describe('RescueModel', () => {
  it('asks for the module with the running kernel, then is ready', async () => {
    const api = new FakeRescueAPI();
    const model = new RescueModel({
      api,
      session: fakeSession(),
      module: 'cv2',
      rerun: jest.fn()
    });
    const started = model.start();
    expect(model.state.status).toBe('loading');
    expect(api.calls).toEqual([
      { module: 'cv2', ref: { kernelId: 'k-1', specName: 'python3' } }
    ]);
    api.pending[0].resolve(rescueResponse());
    await started;
    expect(model.state.status).toBe('ready');
    expect(model.distribution?.name).toBe('opencv-python');
    // No installer: no "Install here".
    expect(model.canInstall).toBe(false);
  });

  it('keeps the error of the request', async () => {
    const api = new FakeRescueAPI();
    const model = new RescueModel({
      api,
      session: fakeSession(),
      module: 'cv2',
      rerun: jest.fn()
    });
    const started = model.start();
    api.pending[0].reject(
      new EnvHelperAPIError({ kind: 'server', status: 500, message: 'boom' })
    );
    await started;
    expect(model.state.status).toBe('error');
    expect(model.state.error?.message).toBe('boom');
  });

  it('opens the plan, follows the confirmed job and offers to run again', async () => {
    const { model, installer, session } = await readyModel();
    expect(model.canInstall).toBe(true);
    await model.installHere();
    expect(installer!.openPlan).toHaveBeenCalledWith(session, 'opencv-python');
    expect(model.state.step).toEqual({
      kind: 'planning',
      distribution: 'opencv-python'
    });

    // Another job (other package) is not ours.
    installer!.jobStarted.emit(
      new FakeJob(job({ requirements: ['pandas'], kind: 'install' }))
    );
    expect(model.state.step?.kind).toBe('planning');
    // Nor one for another kernel.
    installer!.jobStarted.emit(
      new FakeJob(job({ requirements: ['opencv-python'] }), {
        kernelId: 'other'
      })
    );
    expect(model.state.step?.kind).toBe('planning');

    const ours = new FakeJob(job({ requirements: ['opencv-python'] }));
    installer!.jobStarted.emit(ours);
    expect(model.state.step?.kind).toBe('installing');
    expect(model.busy).toBe(true);
    ours.ended.emit(succeeded({ requirements: ['opencv-python'] }));
    expect(model.state.step).toEqual({
      kind: 'installed',
      distribution: 'opencv-python',
      restartNeeded: false
    });
    expect(model.canInstall).toBe(false);
  });

  it('says when the install needs a restart or failed', async () => {
    const { model, installer } = await readyModel();
    await model.installHere();
    let ours = new FakeJob(job({ requirements: ['opencv-python'] }));
    installer!.jobStarted.emit(ours);
    const done = succeeded();
    done.outcome!.restart_needed = true;
    ours.ended.emit(done);
    expect(model.state.step).toMatchObject({ restartNeeded: true });

    await model.installHere();
    ours = new FakeJob(job({ requirements: ['opencv-python==4'] }));
    installer!.jobStarted.emit(ours);
    ours.ended.emit(
      job({
        state: 'failed',
        outcome: {
          message: 'Failed.',
          failure: { kind: 'resolver', message: 'No wheel.', way_out: null },
          changed: [],
          differences: [],
          restart_needed: false,
          restart_modules: []
        }
      })
    );
    expect(model.state.step).toEqual({
      kind: 'install-failed',
      distribution: 'opencv-python',
      message: 'No wheel.'
    });
  });

  it('switches the kernel for real, and restarts it', async () => {
    const { model, session } = await readyModel(
      rescueResponse({
        kernels_with_module: [
          {
            name: 'py312',
            display_name: 'Python 3.12',
            python_version: '3.12.4',
            distribution: 'opencv-python',
            version: '4.9'
          }
        ]
      })
    );
    await model.switchTo('py312');
    expect(session.changeKernel).toHaveBeenCalledWith({ name: 'py312' });
    expect(model.state.step).toEqual({
      kind: 'switched',
      kernel: 'Python 3.12'
    });

    await model.restart();
    expect(session.restartKernel).toHaveBeenCalled();
    expect(model.state.step).toEqual({ kind: 'restarted' });

    session.changeKernel.mockRejectedValueOnce(new Error('no such kernel'));
    await model.switchTo('nope');
    expect(model.state.step).toEqual({
      kind: 'action-failed',
      message: 'no such kernel'
    });
  });

  it('emits dismissed once and is disposed', async () => {
    const { model } = await readyModel();
    const dismissed = jest.fn();
    model.dismissed.connect(dismissed);
    model.dismiss();
    model.dismiss();
    expect(dismissed).toHaveBeenCalledTimes(1);
    expect(model.isDisposed).toBe(true);
  });
});

describe('RescueController', () => {
  function setUp(enabled = true) {
    const api = new FakeRescueAPI();
    const session = fakeSession();
    const attached: Widget[] = [];
    const host = {
      session,
      attach: (w: Widget) => attached.push(w),
      rerun: jest.fn()
    };
    const notebook = {};
    const controller = new RescueController({
      api,
      installer: new FakeInstaller(),
      isEnabled: () => enabled,
      find: nb => (nb === notebook ? host : null),
      createBanner: () => new Widget()
    });
    return { api, host, notebook, controller, attached };
  }
  const failure = {
    ename: 'ModuleNotFoundError',
    evalue: "No module named 'cv2.x'"
  };

  it('puts one banner per notebook after a missing module', async () => {
    const { api, host, notebook, controller, attached } = setUp();
    const cell = {};
    const model = controller.handle({
      notebook,
      cell,
      success: false,
      error: failure
    });
    expect(model?.state.module).toBe('cv2');
    expect(api.calls).toHaveLength(1);
    expect(attached).toHaveLength(1);
    model!.rerun();
    expect(host.rerun).toHaveBeenCalledWith(cell);

    // A second failure replaces the banner.
    const second = controller.handle({
      notebook,
      cell,
      success: false,
      error: failure
    });
    expect(attached[0].isDisposed).toBe(true);
    expect(model!.isDisposed).toBe(true);
    expect(controller.modelFor(notebook)).toBe(second);

    // Another cell succeeding leaves it; the failed cell succeeding removes it.
    controller.handle({ notebook, cell: {}, success: true });
    expect(attached[1].isDisposed).toBe(false);
    controller.handle({ notebook, cell, success: true });
    expect(attached[1].isDisposed).toBe(true);
    expect(controller.modelFor(notebook)).toBeNull();
  });

  it('ignores other errors and unknown notebooks', () => {
    const { api, notebook, controller } = setUp();
    expect(
      controller.handle({
        notebook,
        cell: {},
        success: false,
        error: { ename: 'NameError', evalue: "name 'x' is not defined" }
      })
    ).toBeNull();
    expect(
      controller.handle({
        notebook: {},
        cell: {},
        success: false,
        error: failure
      })
    ).toBeNull();
    expect(api.calls).toHaveLength(0);
  });

  it('asks nothing when the setting is off', () => {
    const { api, notebook, controller, attached } = setUp(false);
    expect(
      controller.handle({ notebook, cell: {}, success: false, error: failure })
    ).toBeNull();
    expect(api.calls).toHaveLength(0);
    expect(attached).toHaveLength(0);
  });

  it('removes the banner when dismissed', () => {
    const { notebook, controller, attached } = setUp();
    const model = controller.handle({
      notebook,
      cell: {},
      success: false,
      error: failure
    });
    model!.dismiss();
    expect(attached[0].isDisposed).toBe(true);
    expect(controller.modelFor(notebook)).toBeNull();
  });
});

describe('RescueBanner', () => {
  function state(overrides: Partial<IRescueState> = {}): IRescueState {
    return {
      module: 'cv2',
      status: 'ready',
      response: rescueResponse(),
      error: null,
      step: null,
      ...overrides
    };
  }
  function renderBanner(
    s: IRescueState,
    options: { canInstall?: boolean; busy?: boolean } = {}
  ) {
    const handlers = {
      onInstall: jest.fn(),
      onSwitch: jest.fn(),
      onRestart: jest.fn(),
      onRerun: jest.fn(),
      onDismiss: jest.fn()
    };
    render(
      <RescueBanner
        state={s}
        canInstall={options.canInstall ?? true}
        busy={options.busy ?? false}
        trans={trans}
        {...handlers}
      />
    );
    return handlers;
  }

  it('says it is looking while the request runs', () => {
    renderBanner(state({ status: 'loading', response: null }));
    expect(
      screen.getByText("Looking for the package that provides 'cv2'…")
    ).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Install here' })).toBeNull();
  });

  it('names the distribution, the verdict and offers to install', () => {
    const handlers = renderBanner(state());
    expect(screen.getByText('opencv-python')).toBeTruthy();
    const message = screen.getByText(
      'This kernel can take opencv-python (2 packages).'
    );
    expect(message.className).toContain('jp-EnvHelper-rescue-ok');
    fireEvent.click(screen.getByRole('button', { name: 'Install here' }));
    expect(handlers.onInstall).toHaveBeenCalled();
    fireEvent.click(screen.getByRole('button', { name: 'Dismiss' }));
    expect(handlers.onDismiss).toHaveBeenCalled();
  });

  it.each<[RescueVerdict, string]>([
    ['blocker', 'jp-EnvHelper-rescue-blocker'],
    ['warning', 'jp-EnvHelper-rescue-warning']
  ])('colours a %s', (verdict, cls) => {
    renderBanner(
      state({ response: rescueResponse({ verdict, message: 'Careful.' }) })
    );
    expect(screen.getByText('Careful.').className).toContain(cls);
  });

  it('lists the kernels that have it, with a switch button each', () => {
    const handlers = renderBanner(
      state({
        response: rescueResponse({
          distribution: null,
          verdict: null,
          message: "No package providing 'cv2' was found on the index.",
          kernels_with_module: [
            {
              name: 'py312',
              display_name: 'Python 3.12',
              python_version: '3.12.4',
              distribution: 'opencv-python',
              version: '4.9'
            }
          ]
        })
      }),
      { canInstall: false }
    );
    expect(screen.getByText("No module named 'cv2'")).toBeTruthy();
    expect(
      screen.getByText('Python 3.12 (Python 3.12.4, opencv-python 4.9)')
    ).toBeTruthy();
    fireEvent.click(
      screen.getByRole('button', { name: 'Switch to kernel Python 3.12' })
    );
    expect(handlers.onSwitch).toHaveBeenCalledWith('py312');
  });

  it('offers a restart when the module is installed here', () => {
    const handlers = renderBanner(
      state({
        response: rescueResponse({ verdict: 'installed', message: 'Restart.' })
      }),
      { canInstall: false }
    );
    fireEvent.click(screen.getByRole('button', { name: 'Restart kernel' }));
    expect(handlers.onRestart).toHaveBeenCalled();
  });

  it('offers to run the cell again after an install', () => {
    const handlers = renderBanner(
      state({
        step: {
          kind: 'installed',
          distribution: 'opencv-python',
          restartNeeded: false
        }
      }),
      { canInstall: false }
    );
    expect(screen.getByText('opencv-python is installed.')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Restart kernel' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Run the cell again' }));
    expect(handlers.onRerun).toHaveBeenCalled();
  });

  it('offers a restart instead when the install needs one', () => {
    renderBanner(
      state({
        step: {
          kind: 'installed',
          distribution: 'opencv-python',
          restartNeeded: true
        }
      }),
      { canInstall: false }
    );
    expect(screen.getByRole('button', { name: 'Restart kernel' })).toBeTruthy();
    expect(
      screen.queryByRole('button', { name: 'Run the cell again' })
    ).toBeNull();
  });

  it('shows the error of the request', () => {
    renderBanner(
      state({
        status: 'error',
        response: null,
        error: new EnvHelperAPIError({
          kind: 'server',
          status: 500,
          message: 'boom'
        })
      })
    );
    expect(
      screen.getByText(
        "Could not look for the package that provides 'cv2': boom"
      )
    ).toBeTruthy();
  });

  it('re-renders from the model', async () => {
    const { model, installer } = await readyModel();
    render(<RescueBannerView model={model} trans={trans} />);
    expect(screen.getByText('opencv-python')).toBeTruthy();
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Install here' }));
      await settle();
    });
    expect(installer!.openPlan).toHaveBeenCalled();
    expect(screen.getByText(/Check the plan for opencv-python/)).toBeTruthy();
  });
});

describe('the rescue of jupyter_envhelper itself', () => {
  const magic = () =>
    rescueResponse({
      module: 'jupyter_envhelper',
      distribution: {
        name: 'jupyter-envhelper-kernel',
        canonical_name: 'jupyter-envhelper-kernel',
        match: 'import-name',
        summary: 'The %envhelp magic for this kernel (no JupyterLab)',
        version: '0.1.0+kabc',
        requirement: 'jupyter-envhelper-kernel==0.1.0+kabc',
        on_index: null
      },
      message: '%envhelp needs jupyter-envhelper-kernel in this kernel.'
    });

  it('offers to enable the magic, and plans the pinned kernel package', async () => {
    const { model, installer } = await readyModel(magic());
    render(
      <RescueBanner
        state={model.state}
        canInstall={model.canInstall}
        busy={false}
        trans={trans}
        onInstall={() => void model.installHere()}
        onSwitch={() => undefined}
        onRestart={() => undefined}
        onRerun={() => undefined}
        onDismiss={() => undefined}
      />
    );
    expect(screen.queryByText('Install here')).toBeNull();
    await act(async () => {
      fireEvent.click(screen.getByText('Enable %envhelp in this kernel'));
    });
    expect(installer!.openPlan).toHaveBeenCalledWith(
      expect.anything(),
      'jupyter-envhelper-kernel==0.1.0+kabc'
    );
    model.dispose();
  });

  it('plans an ordinary package by its name', async () => {
    const { model, installer } = await readyModel();
    await model.installHere();
    expect(installer!.openPlan).toHaveBeenCalledWith(
      expect.anything(),
      'opencv-python'
    );
    model.dispose();
  });
});
