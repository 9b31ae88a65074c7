/**
 * What an opened notebook needs that its kernel lacks: asked of the server
 * when the notebook's kernel is ready (and again after a kernel change), and
 * offered as a quiet banner with the ways out (install through the panel's
 * plan, choose another kernel, dismiss). Also the edit "Record this
 * notebook's dependencies" makes: a PEP 723 `# /// script` block in the first
 * code cell. No DOM here: the banner is made by a factory the plugin passes
 * in.
 */
import type { ISessionContext } from '@jupyterlab/apputils';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import type { Widget } from '@lumino/widgets';

import {
  IJob,
  IKernelRef,
  INeed,
  INeedsAPI,
  INeedsResponse,
  INotebookCellSource
} from './api';
import type { Trans } from './describe';
import { EnvHelperAPIError, isAbortError, toAPIError } from './request';
import {
  IRescueJob,
  refOfSession,
  requirementName,
  sameKernel
} from './rescue';

// -- recording: the pure edit of the cells ------------------------------------

/**
 * A PEP 723 `script` block: `# /// script`, comment lines, `# ///` (the
 * reference regular expression of PEP 723, for the `script` type).
 */
const SCRIPT_BLOCK = /^# \/\/\/ script$\s(?:^#(?:| .*)$\s)+^# \/\/\/$/m;

/**
 * A cell's source as one string (nbformat allows a list of lines).
 */
export function sourceText(source: string | string[]): string {
  return Array.isArray(source) ? source.join('') : source;
}

/**
 * The `# /// script` block of a cell's source, or null.
 */
export function findScriptBlock(source: string): string | null {
  return SCRIPT_BLOCK.exec(source)?.[0] ?? null;
}

/**
 * How recording changes the cells: the first code cell's block replaced, or
 * a new code cell at the top.
 */
export type RecordEdit =
  | { kind: 'replace'; index: number; source: string }
  | { kind: 'insert'; index: 0; source: string };

/**
 * Where `block` goes: it replaces the `# /// script` block of the first code
 * cell, else it is a new code cell above all others.
 */
export function recordEdit(
  cells: readonly INotebookCellSource[],
  block: string
): RecordEdit {
  const index = cells.findIndex(c => c.cell_type === 'code');
  if (index >= 0) {
    const source = sourceText(cells[index].source);
    const found = SCRIPT_BLOCK.exec(source);
    if (found) {
      return {
        kind: 'replace',
        index,
        source:
          source.slice(0, found.index) +
          block +
          source.slice(found.index + found[0].length)
      };
    }
  }
  return { kind: 'insert', index: 0, source: block };
}

/**
 * The notebook's cells, as far as recording needs them.
 */
export interface IRecordTarget {
  cells(): INotebookCellSource[];
  /** Set the source of the cell at `index`. */
  setSource(index: number, source: string): void;
  /** Insert a code cell at `index`. */
  insertCodeCell(index: number, source: string): void;
}

/**
 * Ask the server what the notebook needs and what its kernel has now, and
 * write the answer's block into the notebook (unsaved: the user saves).
 *
 * @returns the edit made and the answer it came from
 * @throws {EnvHelperAPIError} when the server could not answer
 */
export async function recordDependencies(
  api: INeedsAPI,
  ref: IKernelRef,
  notebook: IRecordTarget
): Promise<{ edit: RecordEdit; response: INeedsResponse }> {
  const cells = notebook.cells();
  const response = await api.needs(ref, { cells });
  // The cells may have changed while the server answered.
  const edit = recordEdit(notebook.cells(), response.record_block);
  if (edit.kind === 'replace') {
    notebook.setSource(edit.index, edit.source);
  } else {
    notebook.insertCodeCell(edit.index, edit.source);
  }
  return { edit, response };
}

// -- the banner's model ---------------------------------------------------------

/**
 * What the needs model uses of the notebook's session context.
 */
export type INeedsSession = Pick<
  ISessionContext,
  | 'session'
  | 'kernelDisplayName'
  | 'kernelChanged'
  | 'statusChanged'
  | 'ready'
  | 'isDisposed'
  | 'changeKernel'
  | 'restartKernel'
>;

/**
 * A job the panel follows, as far as the banner needs it.
 */
export interface INeedsJob extends IRescueJob {
  /** Emitted when the job's progress changes. */
  readonly changed?: ISignal<unknown, unknown>;
}

/**
 * The panel's install flow (plan, confirm, progress), reused by the banner.
 */
export interface INeedsInstaller {
  /** Emitted when the panel starts following a job. */
  readonly jobStarted: ISignal<unknown, INeedsJob>;
  /** Open the panel's plan for installing `requirements` into the session's kernel. */
  openPlan(
    session: INeedsSession,
    requirements: string[]
  ): Promise<void> | void;
}

/**
 * Where the user is after pressing one of the banner's buttons.
 */
export type NeedsStep =
  /** The plan is open in the panel, waiting to be confirmed. */
  | { kind: 'planning' }
  | { kind: 'installing'; progress: string | null }
  | { kind: 'installed'; restartNeeded: boolean }
  | { kind: 'install-failed'; message: string }
  | { kind: 'choosing' }
  | { kind: 'restarting' }
  | { kind: 'action-failed'; message: string };

export interface INeedsState {
  status: 'idle' | 'loading' | 'ready' | 'error';
  /** The latest answer (kept while a new one is asked for). */
  response: INeedsResponse | null;
  error: EnvHelperAPIError | null;
  dismissed: boolean;
  step: NeedsStep | null;
}

/**
 * The needs that an install asks for, in the answer's order: each with the
 * name the banner shows (the requirement when a version is asked for).
 */
export function missingNeeds(
  response: INeedsResponse | null
): { label: string; need: INeed | null }[] {
  if (!response) {
    return [];
  }
  return response.missing.map(requirement => {
    const need =
      response.needs.find(n => n.requirement === requirement) ??
      response.needs.find(
        n => requirementName(n.distribution) === requirementName(requirement)
      ) ??
      null;
    const label =
      need && need.source !== 'recorded' ? need.distribution : requirement;
    return { label, need };
  });
}

/**
 * "a", "a and b", "a, b and c".
 */
export function listText(items: readonly string[], trans: Trans): string {
  if (items.length <= 1) {
    return items[0] ?? '';
  }
  return trans.__(
    '%1 and %2',
    items.slice(0, -1).join(', '),
    items[items.length - 1]
  );
}

/**
 * The banner's sentence: "This notebook needs PyYAML and tabulate, which
 * python3 doesn't have".
 */
export function needsText(
  response: INeedsResponse,
  kernelName: string,
  trans: Trans
): string {
  const labels = missingNeeds(response).map(m => m.label);
  return trans.__(
    "This notebook needs %1, which %2 doesn't have.",
    listText(labels, trans),
    kernelName
  );
}

/**
 * The needs the kernel has at a version the notebook does not ask for:
 * "python3 has pandas 1.5.3".
 */
export function otherVersionText(
  response: INeedsResponse,
  kernelName: string,
  trans: Trans
): string | null {
  const other = missingNeeds(response)
    .map(m => m.need)
    .filter((n): n is INeed => !!n && n.state === 'other-version')
    .map(n => `${n.distribution} ${n.installed_version ?? ''}`.trim());
  return other.length
    ? trans.__('%1 has %2.', kernelName, listText(other, trans))
    : null;
}

/**
 * The state of one notebook's banner, from the notebook's opening to its
 * closing.
 */
export class NeedsModel implements IDisposable {
  constructor(options: NeedsModel.IOptions) {
    this._api = options.api;
    this._session = options.session;
    this._cells = options.cells;
    this._installer = options.installer ?? null;
    this._selectKernel = options.selectKernel ?? null;
    this._isEnabled = options.isEnabled ?? (() => true);
    this._onError = options.onError ?? (() => undefined);
  }

  /** Emitted whenever the state changes. */
  get changed(): ISignal<this, INeedsState> {
    return this._changed;
  }

  get state(): INeedsState {
    return this._state;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** The name of the kernel the answer is about. */
  get kernelName(): string {
    return (
      this._state.response?.kernel?.display_name ||
      this._session.kernelDisplayName
    );
  }

  /** What an install would ask for. */
  get missing(): string[] {
    return this._state.response?.missing ?? [];
  }

  /** Whether the banner shows. */
  get visible(): boolean {
    const { dismissed, step } = this._state;
    if (dismissed || !this._isEnabled()) {
      return false;
    }
    return (
      this.missing.length > 0 ||
      step?.kind === 'installing' ||
      (step?.kind === 'installed' && step.restartNeeded) ||
      step?.kind === 'restarting'
    );
  }

  /** The banner's sentence, or '' when nothing is missing. */
  text(trans: Trans): string {
    const response = this._state.response;
    return response && response.missing.length
      ? needsText(response, this.kernelName, trans)
      : '';
  }

  /** Whether "Install" can be offered. */
  get canInstall(): boolean {
    return this._installer !== null && this.missing.length > 0 && !this.busy;
  }

  /** Whether "Choose another kernel" can be offered. */
  get canChooseKernel(): boolean {
    return this._selectKernel !== null;
  }

  /** Whether an install, a kernel choice or a restart is under way. */
  get busy(): boolean {
    const kind = this._state.step?.kind;
    return (
      kind === 'installing' || kind === 'choosing' || kind === 'restarting'
    );
  }

  /**
   * Ask whenever the notebook's kernel is ready and is another one than the
   * one last asked about (its opening, a kernel change).
   */
  start(): void {
    if (this._started || this._isDisposed) {
      return;
    }
    this._started = true;
    this._session.kernelChanged.connect(this._onKernel, this);
    this._session.statusChanged.connect(this._onKernel, this);
    void this._session.ready.then(
      () => this._onKernel(),
      () => undefined
    );
    this._onKernel();
  }

  /**
   * Ask the server what the notebook needs of its kernel now.
   */
  async check(): Promise<void> {
    if (this._isDisposed || !this._isEnabled()) {
      return;
    }
    const ref = refOfSession(this._session);
    if (!ref.kernelId && !ref.specName) {
      return;
    }
    this._askedFor = ref.kernelId ?? ref.specName ?? null;
    this._request?.abort();
    const request = new AbortController();
    this._request = request;
    this._setState({ ...this._state, status: 'loading', error: null });
    try {
      const response = await this._api.needs(
        ref,
        { cells: this._cells() },
        request.signal
      );
      if (request.signal.aborted || this._isDisposed) {
        return;
      }
      const step = this._state.step;
      this._setState({
        ...this._state,
        status: 'ready',
        response,
        // A finished install that needs nothing more is done with.
        step: step?.kind === 'installed' && !step.restartNeeded ? null : step
      });
    } catch (error) {
      if (isAbortError(error) || request.signal.aborted || this._isDisposed) {
        return;
      }
      const apiError = toAPIError(error);
      // Quiet: no banner. The panel says when the extension is not enabled.
      this._setState({
        ...this._state,
        status: 'error',
        response: null,
        error: apiError
      });
      if (!apiError.notEnabled) {
        this._onError(apiError);
      }
    } finally {
      if (this._request === request) {
        this._request = null;
      }
    }
  }

  /**
   * Open the panel's plan for what is missing; the banner follows the job
   * the user confirms there, then asks again.
   */
  async install(): Promise<void> {
    const missing = this.missing;
    if (!this._installer || !missing.length) {
      return;
    }
    if (!this._following) {
      this._installer.jobStarted.connect(this._onJobStarted, this);
      this._following = true;
    }
    this._planned = missing.map(requirementName);
    this._setStep({ kind: 'planning' });
    try {
      await this._installer.openPlan(this._session, missing);
    } catch (error) {
      this._setStep({
        kind: 'action-failed',
        message: toAPIError(error).message
      });
    }
  }

  /**
   * Let the user pick another kernel; the new kernel is asked about when it
   * is ready.
   */
  async chooseKernel(): Promise<void> {
    if (!this._selectKernel) {
      return;
    }
    this._setStep({ kind: 'choosing' });
    try {
      await this._selectKernel();
      if (this._state.step?.kind === 'choosing') {
        this._setStep(null);
      }
    } catch (error) {
      this._setStep({
        kind: 'action-failed',
        message: toAPIError(error).message
      });
    }
  }

  /**
   * Restart the kernel after an install that needs it.
   */
  async restart(): Promise<void> {
    this._setStep({ kind: 'restarting' });
    try {
      await this._session.restartKernel();
      this._setStep(null);
    } catch (error) {
      this._setStep({
        kind: 'action-failed',
        message: toAPIError(error).message
      });
    }
  }

  /**
   * Hide the banner until the notebook is opened again.
   */
  dismiss(): void {
    this._setState({ ...this._state, dismissed: true });
  }

  /**
   * Tell the model the setting changed: ask now if it was never asked.
   */
  settingChanged(): void {
    if (this._isEnabled() && this._state.status === 'idle' && this._started) {
      this._askedFor = null;
      this._onKernel();
    }
    this._changed.emit(this._state);
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._request?.abort();
    this._request = null;
    if (this._following) {
      this._installer?.jobStarted.disconnect(this._onJobStarted, this);
    }
    this._unfollowJob();
    Signal.clearData(this);
  }

  private _onKernel(): void {
    if (this._isDisposed || this._session.isDisposed) {
      return;
    }
    const kernel = this._session.session?.kernel ?? null;
    if (!kernel || (kernel.status !== 'idle' && kernel.status !== 'busy')) {
      return;
    }
    if ((kernel.id ?? kernel.name) === this._askedFor) {
      return;
    }
    void this.check();
  }

  private _onJobStarted(_: unknown, job: INeedsJob): void {
    if (this._state.step?.kind !== 'planning' || job.job.kind !== 'install') {
      return;
    }
    const names = job.job.requirements.map(requirementName);
    if (!this._planned.some(n => names.includes(n))) {
      return;
    }
    if (!sameKernel(job.ref, refOfSession(this._session))) {
      return;
    }
    this._unfollowJob();
    this._job = job;
    job.ended.connect(this._onJobEnded, this);
    job.changed?.connect(this._onJobChanged, this);
    this._setStep({ kind: 'installing', progress: progressOf(job.job) });
  }

  private _onJobChanged(): void {
    if (this._job && this._state.step?.kind === 'installing') {
      const progress = progressOf(this._job.job);
      if (progress !== this._state.step.progress) {
        this._setStep({ kind: 'installing', progress });
      }
    }
  }

  private _onJobEnded(_: unknown, job: IJob): void {
    const step = this._state.step;
    this._unfollowJob();
    if (step?.kind !== 'installing') {
      return;
    }
    if (job.state === 'succeeded') {
      this._setStep({
        kind: 'installed',
        restartNeeded: !!job.outcome?.restart_needed
      });
      void this.check();
    } else {
      this._setStep({
        kind: 'install-failed',
        message:
          job.outcome?.failure?.message ||
          job.outcome?.message ||
          String(job.state)
      });
    }
  }

  private _unfollowJob(): void {
    this._job?.ended.disconnect(this._onJobEnded, this);
    this._job?.changed?.disconnect(this._onJobChanged, this);
    this._job = null;
  }

  private _setStep(step: NeedsStep | null): void {
    this._setState({ ...this._state, step });
  }

  private _setState(state: INeedsState): void {
    if (this._isDisposed) {
      return;
    }
    this._state = state;
    this._changed.emit(state);
  }

  private _api: INeedsAPI;
  private _session: INeedsSession;
  private _cells: () => INotebookCellSource[];
  private _installer: INeedsInstaller | null;
  private _selectKernel: (() => Promise<unknown>) | null;
  private _isEnabled: () => boolean;
  private _onError: (error: EnvHelperAPIError) => void;
  private _state: INeedsState = {
    status: 'idle',
    response: null,
    error: null,
    dismissed: false,
    step: null
  };
  private _started = false;
  private _askedFor: string | null = null;
  private _planned: string[] = [];
  private _request: AbortController | null = null;
  private _following = false;
  private _job: INeedsJob | null = null;
  private _isDisposed = false;
  private _changed = new Signal<this, INeedsState>(this);
}

export namespace NeedsModel {
  export interface IOptions {
    api: INeedsAPI;
    session: INeedsSession;
    /** The notebook's cells now (type and source are enough). */
    cells: () => INotebookCellSource[];
    /** Without it, no "Install". */
    installer?: INeedsInstaller | null;
    /** The kernel picker; without it, no "Choose another kernel". */
    selectKernel?: (() => Promise<unknown>) | null;
    /** Whether the setting is on (read whenever it matters). */
    isEnabled?: () => boolean;
    /** Told of a failed request (not of a missing server extension). */
    onError?: (error: EnvHelperAPIError) => void;
  }
}

function progressOf(job: IJob): string | null {
  return job.progress?.message || null;
}

// -- one banner per open notebook ----------------------------------------------

/**
 * An open notebook, as far as the banner needs it.
 */
export interface INeedsNotebook {
  readonly session: INeedsSession;
  cells(): INotebookCellSource[];
  /** Show the banner in the notebook. */
  attach(banner: Widget): void;
  /** The notebook's kernel picker. */
  selectKernel?: () => Promise<unknown>;
  /** Emitted when the notebook closes. */
  readonly disposed: ISignal<unknown, unknown>;
}

/**
 * Keeps one needs model per open notebook, and its banner in the notebook
 * while the model says it shows.
 */
export class NeedsController implements IDisposable {
  constructor(options: NeedsController.IOptions) {
    this._options = options;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** The model of a notebook being watched. */
  modelFor(notebook: INeedsNotebook): NeedsModel | null {
    return this._entries.get(notebook)?.model ?? null;
  }

  /**
   * Watch a notebook from its opening until it closes.
   */
  watch(notebook: INeedsNotebook): NeedsModel {
    const existing = this._entries.get(notebook);
    if (existing) {
      return existing.model;
    }
    const model = new NeedsModel({
      api: this._options.api,
      session: notebook.session,
      cells: () => notebook.cells(),
      installer: this._options.installer ?? null,
      selectKernel: notebook.selectKernel ?? null,
      isEnabled: this._options.isEnabled,
      onError: error => this._logOnce(error)
    });
    const entry: { model: NeedsModel; widget: Widget | null } = {
      model,
      widget: null
    };
    this._entries.set(notebook, entry);
    model.changed.connect(() => this._sync(notebook, entry));
    notebook.disposed.connect(() => this._unwatch(notebook));
    model.start();
    return model;
  }

  /**
   * The setting changed: show or hide the banners, ask where never asked.
   */
  settingChanged(): void {
    for (const entry of this._entries.values()) {
      entry.model.settingChanged();
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    for (const notebook of [...this._entries.keys()]) {
      this._unwatch(notebook);
    }
  }

  private _sync(
    notebook: INeedsNotebook,
    entry: { model: NeedsModel; widget: Widget | null }
  ): void {
    if (this._entries.get(notebook) !== entry) {
      return;
    }
    if (entry.model.visible && !entry.widget) {
      const widget = this._options.createBanner(entry.model);
      entry.widget = widget;
      widget.disposed.connect(() => {
        if (entry.widget === widget) {
          entry.widget = null;
        }
      });
      notebook.attach(widget);
    } else if (!entry.model.visible && entry.widget) {
      const widget = entry.widget;
      entry.widget = null;
      widget.dispose();
    }
  }

  private _unwatch(notebook: INeedsNotebook): void {
    const entry = this._entries.get(notebook);
    if (!entry) {
      return;
    }
    this._entries.delete(notebook);
    entry.model.dispose();
    entry.widget?.dispose();
  }

  private _logOnce(error: EnvHelperAPIError): void {
    if (this._logged) {
      return;
    }
    this._logged = true;
    (this._options.log ?? console.warn)(
      'jupyter-envhelper: could not read what the notebook needs:',
      error.message
    );
  }

  private _options: NeedsController.IOptions;
  private _entries = new Map<
    INeedsNotebook,
    { model: NeedsModel; widget: Widget | null }
  >();
  private _logged = false;
  private _isDisposed = false;
}

export namespace NeedsController {
  export interface IOptions {
    api: INeedsAPI;
    installer?: INeedsInstaller | null;
    /** Whether the setting is on. */
    isEnabled: () => boolean;
    /** Make the banner showing a model. */
    createBanner: (model: NeedsModel) => Widget;
    /** Where the one failure note goes (console.warn). */
    log?: (...args: unknown[]) => void;
  }
}
