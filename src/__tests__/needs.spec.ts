import { Signal } from '@lumino/signaling';
import type { Widget } from '@lumino/widgets';

import {
  IJob,
  IKernelRef,
  INeed,
  INeedsAPI,
  INeedsResponse,
  INotebookCellSource
} from '../api';
import {
  INeedsJob,
  INeedsNotebook,
  INeedsSession,
  NeedsController,
  NeedsModel,
  findScriptBlock,
  recordDependencies,
  recordEdit
} from '../needs';
import { EnvHelperAPIError } from '../request';
import { job, settle, succeeded } from './fixtures/changes';
import { FakeSession } from './fixtures/fakes';
import { trans } from './fixtures/responses';

const BLOCK =
  '# /// script\n# requires-python = ">=3.11"\n# dependencies = [\n#   "pyyaml==6.0",\n#   "tabulate",\n# ]\n# ///';

function need(overrides: Partial<INeed> = {}): INeed {
  return {
    distribution: 'PyYAML',
    requirement: 'PyYAML',
    source: 'import',
    modules: ['yaml'],
    cells: [1],
    optional: false,
    state: 'missing',
    installed_version: null,
    ...overrides
  };
}

function needsResponse(
  overrides: Partial<INeedsResponse> = {}
): INeedsResponse {
  return {
    schema: 1,
    kernel: {
      name: 'python3',
      display_name: 'python3',
      language: 'python',
      kernel_id: 'k-1',
      interpreter: '/usr/bin/python3',
      interpreter_source: 'kernel',
      spec_interpreter: null,
      confirmed_by_kernel: true,
      mismatch: null
    },
    recorded: false,
    needs: [
      need(),
      need({
        distribution: 'tabulate',
        requirement: 'tabulate',
        modules: ['tabulate'],
        cells: [2]
      }),
      need({
        distribution: 'numpy',
        requirement: 'numpy',
        modules: ['numpy'],
        state: 'present',
        installed_version: '2.1.0'
      })
    ],
    missing: ['PyYAML', 'tabulate'],
    notes: [],
    record_block: BLOCK,
    ...overrides
  };
}

const NOTHING_MISSING = needsResponse({
  needs: [need({ state: 'present', installed_version: '6.0' })],
  missing: []
});

class FakeNeedsAPI implements INeedsAPI {
  calls: {
    ref: IKernelRef;
    cells: INotebookCellSource[];
    resolve: (r: INeedsResponse) => void;
    reject: (e: unknown) => void;
  }[] = [];

  needs(
    ref: IKernelRef,
    notebook: { cells: INotebookCellSource[] }
  ): Promise<INeedsResponse> {
    return new Promise((resolve, reject) =>
      this.calls.push({ ref, cells: notebook.cells, resolve, reject })
    );
  }
}

class FakeJob implements INeedsJob {
  constructor(
    public job: IJob,
    public ref: IKernelRef
  ) {}
  ended = new Signal<this, IJob>(this);
  changed = new Signal<this, void>(this);
}

/**
 * As much of a Lumino widget as the controller uses (no DOM here).
 */
class FakeBanner {
  isDisposed = false;
  disposed = new Signal<this, void>(this);
  dispose(): void {
    if (!this.isDisposed) {
      this.isDisposed = true;
      this.disposed.emit();
    }
  }
}

class FakeInstaller {
  jobStarted = new Signal<this, INeedsJob>(this);
  plans: string[][] = [];
  openPlan(_: unknown, requirements: string[]): void {
    this.plans.push(requirements);
  }
}

const CELLS: INotebookCellSource[] = [
  { cell_type: 'markdown', source: '# Title' },
  { cell_type: 'code', source: 'import yaml' },
  { cell_type: 'code', source: ['from tabulate ', 'import tabulate'] }
];

function setUp(options: { enabled?: () => boolean } = {}) {
  const api = new FakeNeedsAPI();
  const session = new FakeSession();
  const installer = new FakeInstaller();
  const errors: EnvHelperAPIError[] = [];
  let kernelPicks = 0;
  const model = new NeedsModel({
    api,
    session: session as unknown as INeedsSession,
    cells: () => CELLS,
    installer,
    selectKernel: async () => {
      kernelPicks++;
      await session.changeKernel({ name: 'py312' });
    },
    isEnabled: options.enabled,
    onError: e => errors.push(e)
  });
  return { api, session, installer, model, errors, picks: () => kernelPicks };
}

describe('NeedsModel', () => {
  it('asks when the kernel is ready, with the cells and the running kernel', async () => {
    const { api, model } = setUp();
    model.start();
    await settle();
    expect(api.calls).toHaveLength(1);
    expect(api.calls[0].ref).toEqual({ kernelId: 'k-1', specName: 'python3' });
    expect(api.calls[0].cells).toEqual(CELLS);
    // Ready and idle again: the same kernel is not asked about twice.
    model.start();
    await settle();
    expect(api.calls).toHaveLength(1);
  });

  it('waits for a starting kernel to be idle', async () => {
    const { api, session, model } = setUp();
    session.setStatus('starting');
    model.start();
    await settle();
    expect(api.calls).toHaveLength(0);
    session.setStatus('idle');
    await settle();
    expect(api.calls).toHaveLength(1);
  });

  it('nothing missing: no banner', async () => {
    const { api, model } = setUp();
    model.start();
    api.calls[0].resolve(NOTHING_MISSING);
    await settle();
    expect(model.state.status).toBe('ready');
    expect(model.visible).toBe(false);
    expect(model.text(trans)).toBe('');
  });

  it('missing: the banner names the packages and the kernel', async () => {
    const { api, model } = setUp();
    model.start();
    api.calls[0].resolve(needsResponse());
    await settle();
    expect(model.visible).toBe(true);
    expect(model.text(trans)).toBe(
      "This notebook needs PyYAML and tabulate, which python3 doesn't have."
    );
    expect(model.canInstall).toBe(true);
    expect(model.canChooseKernel).toBe(true);
  });

  it('names three packages as a list, and a recorded requirement as written', async () => {
    const { api, model } = setUp();
    model.start();
    api.calls[0].resolve(
      needsResponse({
        needs: [
          need({ distribution: 'a', requirement: 'a' }),
          need({ distribution: 'b', requirement: 'b' }),
          need({
            distribution: 'pandas',
            requirement: 'pandas>=2',
            source: 'recorded',
            state: 'other-version',
            installed_version: '1.5.3'
          })
        ],
        missing: ['a', 'b', 'pandas>=2']
      })
    );
    await settle();
    expect(model.text(trans)).toBe(
      "This notebook needs a, b and pandas>=2, which python3 doesn't have."
    );
  });

  it('dismiss hides the banner, and it stays hidden after a kernel change', async () => {
    const { api, session, model } = setUp();
    model.start();
    api.calls[0].resolve(needsResponse());
    await settle();
    const seen: boolean[] = [];
    model.changed.connect(() => seen.push(model.visible));
    model.dismiss();
    expect(model.visible).toBe(false);
    expect(seen).toEqual([false]);
    await session.changeKernel({ name: 'other' });
    await settle();
    api.calls[1]?.resolve(needsResponse());
    await settle();
    expect(model.visible).toBe(false);
  });

  it('asks again after a kernel change', async () => {
    const { api, session, model } = setUp();
    model.start();
    api.calls[0].resolve(needsResponse());
    await settle();
    await session.changeKernel({ name: 'py312' });
    await settle();
    expect(api.calls).toHaveLength(2);
    expect(api.calls[1].ref).toEqual({ kernelId: 'k-2', specName: 'py312' });
    api.calls[1].resolve(NOTHING_MISSING);
    await settle();
    expect(model.visible).toBe(false);
  });

  it('"Choose another kernel" opens the picker; the new kernel is asked about', async () => {
    const { api, model, picks } = setUp();
    model.start();
    api.calls[0].resolve(needsResponse());
    await settle();
    await model.chooseKernel();
    await settle();
    expect(picks()).toBe(1);
    expect(model.state.step).toBeNull();
    expect(api.calls).toHaveLength(2);
  });

  it('install: plans what is missing, follows the job, asks again, hides when nothing is missing', async () => {
    const { api, installer, model } = setUp();
    model.start();
    api.calls[0].resolve(needsResponse());
    await settle();
    await model.install();
    expect(installer.plans).toEqual([['PyYAML', 'tabulate']]);
    expect(model.state.step).toEqual({ kind: 'planning' });

    // A job for another kernel is not this banner's.
    installer.jobStarted.emit(
      new FakeJob(job({ requirements: ['pyyaml', 'tabulate'] }), {
        kernelId: 'k-9'
      })
    );
    expect(model.state.step?.kind).toBe('planning');

    const started = new FakeJob(job({ requirements: ['pyyaml', 'tabulate'] }), {
      kernelId: 'k-1',
      specName: 'python3'
    });
    installer.jobStarted.emit(started);
    expect(model.state.step).toEqual({ kind: 'installing', progress: null });
    expect(model.busy).toBe(true);
    expect(model.canInstall).toBe(false);
    expect(model.visible).toBe(true);

    started.job = job({
      state: 'running',
      progress: {
        phase: 'installing',
        fraction: null,
        bytes_done: null,
        bytes_total: null,
        package: null,
        message: 'Installing 2 packages'
      }
    });
    started.changed.emit();
    expect(model.state.step).toEqual({
      kind: 'installing',
      progress: 'Installing 2 packages'
    });

    started.ended.emit(succeeded());
    expect(model.state.step).toEqual({
      kind: 'installed',
      restartNeeded: false
    });
    expect(api.calls).toHaveLength(2);
    api.calls[1].resolve(NOTHING_MISSING);
    await settle();
    expect(model.visible).toBe(false);
    expect(model.state.step).toBeNull();
  });

  it('a failed install says why and offers Install again', async () => {
    const { api, installer, model } = setUp();
    model.start();
    api.calls[0].resolve(needsResponse());
    await settle();
    await model.install();
    const started = new FakeJob(job({ requirements: ['PyYAML'] }), {
      kernelId: 'k-1'
    });
    installer.jobStarted.emit(started);
    started.ended.emit(
      job({
        state: 'failed',
        outcome: {
          message: '',
          failure: { kind: 'resolve', message: 'No wheel.', way_out: null },
          changed: [],
          differences: [],
          restart_needed: false,
          restart_modules: []
        }
      })
    );
    expect(model.state.step).toEqual({
      kind: 'install-failed',
      message: 'No wheel.'
    });
    expect(model.visible).toBe(true);
    expect(model.canInstall).toBe(true);
  });

  it('a missing server extension (404) is silent; another error is reported to the log hook', async () => {
    const first = setUp();
    first.model.start();
    first.api.calls[0].reject(
      new EnvHelperAPIError({
        kind: 'not-enabled',
        status: 404,
        message: 'not enabled'
      })
    );
    await settle();
    expect(first.model.visible).toBe(false);
    expect(first.errors).toEqual([]);

    const second = setUp();
    second.model.start();
    second.api.calls[0].reject(
      new EnvHelperAPIError({ kind: 'server', status: 500, message: 'boom' })
    );
    await settle();
    expect(second.model.visible).toBe(false);
    expect(second.model.state.status).toBe('error');
    expect(second.errors.map(e => e.message)).toEqual(['boom']);
  });

  it('the setting off: nothing is asked, nothing shows; on: asks', async () => {
    let enabled = false;
    const { api, model } = setUp({ enabled: () => enabled });
    model.start();
    await settle();
    expect(api.calls).toHaveLength(0);
    enabled = true;
    model.settingChanged();
    await settle();
    expect(api.calls).toHaveLength(1);
    api.calls[0].resolve(needsResponse());
    await settle();
    expect(model.visible).toBe(true);
    enabled = false;
    expect(model.visible).toBe(false);
  });
});

describe('NeedsController', () => {
  function notebook(session: FakeSession): INeedsNotebook & {
    attached: Widget[];
    close: () => void;
  } {
    const disposed = new Signal<unknown, void>({});
    const attached: Widget[] = [];
    return {
      session: session as unknown as INeedsSession,
      cells: () => CELLS,
      attach: w => attached.push(w),
      disposed,
      attached,
      close: () => disposed.emit()
    };
  }

  it('attaches a banner while the model shows one, removes it on dismiss, logs one failure', async () => {
    const api = new FakeNeedsAPI();
    const log = jest.fn();
    const controller = new NeedsController({
      api,
      isEnabled: () => true,
      createBanner: () => new FakeBanner() as unknown as Widget,
      log
    });
    const nb = notebook(new FakeSession());
    const model = controller.watch(nb);
    await settle();
    expect(nb.attached).toHaveLength(0);
    api.calls[0].resolve(needsResponse());
    await settle();
    expect(nb.attached).toHaveLength(1);
    model.dismiss();
    expect(nb.attached[0].isDisposed).toBe(true);

    // Two notebooks fail: one line in the console.
    for (let i = 0; i < 2; i++) {
      controller.watch(notebook(new FakeSession()));
      await settle();
      api.calls[api.calls.length - 1].reject(
        new EnvHelperAPIError({ kind: 'server', status: 500, message: 'boom' })
      );
      await settle();
    }
    expect(log).toHaveBeenCalledTimes(1);

    nb.close();
    expect(controller.modelFor(nb)).toBeNull();
    expect(model.isDisposed).toBe(true);
  });
});

describe('recording', () => {
  it('finds a PEP 723 script block', () => {
    expect(findScriptBlock(`${BLOCK}\nimport yaml`)).toBe(BLOCK);
    expect(findScriptBlock('# /// script\nimport yaml')).toBeNull();
    expect(findScriptBlock('import yaml')).toBeNull();
  });

  it('inserts a new code cell at the top when the first code cell has no block', () => {
    expect(recordEdit(CELLS, BLOCK)).toEqual({
      kind: 'insert',
      index: 0,
      source: BLOCK
    });
    expect(recordEdit([], BLOCK)).toEqual({
      kind: 'insert',
      index: 0,
      source: BLOCK
    });
  });

  it('replaces the block of the first code cell, keeping the rest of it', () => {
    const old =
      '# /// script\n# dependencies = [\n#   "pyyaml",\n# ]\n# ///\nimport yaml\n';
    const cells: INotebookCellSource[] = [
      { cell_type: 'markdown', source: '# /// script\n# ///' },
      { cell_type: 'code', source: old.split(/(?<=\n)/) },
      { cell_type: 'code', source: 'import tabulate' }
    ];
    expect(recordEdit(cells, BLOCK)).toEqual({
      kind: 'replace',
      index: 1,
      source: `${BLOCK}\nimport yaml\n`
    });
    expect(
      recordEdit([{ cell_type: 'code', source: `x = 1\n${old}` }], BLOCK)
    ).toEqual({
      kind: 'replace',
      index: 0,
      source: `x = 1\n${BLOCK}\nimport yaml\n`
    });
  });

  it('a block in a later code cell is not the recorded one: a new cell goes on top', () => {
    const cells: INotebookCellSource[] = [
      { cell_type: 'code', source: 'import yaml' },
      { cell_type: 'code', source: BLOCK }
    ];
    expect(recordEdit(cells, BLOCK).kind).toBe('insert');
  });

  it('recordDependencies asks the server and writes its block into the notebook', async () => {
    const api = new FakeNeedsAPI();
    const cells: INotebookCellSource[] = [
      { cell_type: 'code', source: 'import yaml' }
    ];
    const writes: string[] = [];
    const done = recordDependencies(
      api,
      { kernelId: 'k-1' },
      {
        cells: () => cells,
        setSource: (i, s) => writes.push(`set ${i}: ${s}`),
        insertCodeCell: (i, s) => writes.push(`insert ${i}: ${s}`)
      }
    );
    expect(api.calls[0].ref).toEqual({ kernelId: 'k-1' });
    api.calls[0].resolve(needsResponse());
    const { edit } = await done;
    expect(edit.kind).toBe('insert');
    expect(writes).toEqual([`insert 0: ${BLOCK}`]);
  });
});
