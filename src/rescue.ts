/**
 * Help right after a notebook cell fails with "No module named X": which
 * distribution provides X, whether this kernel can take it, which kernels
 * already have it, and the way out (install through the panel's plan, switch
 * kernel, restart, run the cell again). No DOM here: the banner is made by a
 * factory the plugin passes in.
 */
import type { ISessionContext } from '@jupyterlab/apputils';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import type { Widget } from '@lumino/widgets';

import {
  IJob,
  IKernelRef,
  IRescueAPI,
  IRescueDistribution,
  IRescueResponse
} from './api';
import type { INewEnvironmentRequest } from './newenv';
import { EnvHelperAPIError, isAbortError, toAPIError } from './request';

/**
 * The top-level module a failed import names, or null when the error is not
 * a missing module.
 *
 * Accepts a notebook `KernelError` (`errorName`, `errorValue`) or an error
 * reply's content (`ename`, `evalue`).
 */
export function missingModule(error: unknown): string | null {
  if (!error || typeof error !== 'object') {
    return null;
  }
  const e = error as {
    ename?: unknown;
    evalue?: unknown;
    errorName?: unknown;
    errorValue?: unknown;
  };
  const name = e.ename ?? e.errorName;
  const value = e.evalue ?? e.errorValue;
  if (
    (name !== 'ModuleNotFoundError' && name !== 'ImportError') ||
    typeof value !== 'string'
  ) {
    return null;
  }
  const match = /No module named\s+(?:'([^']+)'|"([^"]+)"|([^\s'";,]+))/.exec(
    value
  );
  if (!match) {
    return null;
  }
  const full = (match[1] ?? match[2] ?? match[3]).trim();
  const top = full.split('.')[0];
  return /^[^\W\d]\w*$/u.test(top) ? top : null;
}

/**
 * A requirement's project name, normalized (PEP 503).
 */
export function requirementName(requirement: string): string {
  const name = requirement.trim().split(/[\s<>=!~;[@(,]/)[0];
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/**
 * What the rescue needs from the notebook's session context.
 */
export type IRescueSession = Pick<
  ISessionContext,
  'session' | 'kernelDisplayName' | 'changeKernel' | 'restartKernel'
>;

/**
 * Whether a job's kernel is this one: by running kernel when both are known, else by
 * kernelspec.
 */
export function sameKernel(ref: IKernelRef, here: IKernelRef): boolean {
  if (ref.kernelId && here.kernelId) {
    return ref.kernelId === here.kernelId;
  }
  return !!ref.specName && ref.specName === here.specName;
}

/**
 * The kernel a session runs, as the API names it.
 */
export function refOfSession(session: IRescueSession): IKernelRef {
  const kernel = session.session?.kernel ?? null;
  return { kernelId: kernel?.id ?? null, specName: kernel?.name ?? null };
}

/**
 * A job the panel follows, as far as the rescue needs it.
 */
export interface IRescueJob {
  readonly job: IJob;
  readonly ref: IKernelRef;
  readonly ended: ISignal<unknown, IJob>;
}

/**
 * The panel's install flow (plan, confirm, progress), reused by the rescue.
 */
export interface IRescueInstaller {
  /** Emitted when the panel starts following a job. */
  readonly jobStarted: ISignal<unknown, IRescueJob>;
  /** Open the panel's plan for installing `requirement` into the session's kernel. */
  openPlan(session: IRescueSession, requirement: string): Promise<void> | void;
  /** The panel's plan changed; null: it was closed (cancelled or confirmed). */
  readonly planChanged?: ISignal<unknown, unknown>;
  /** Open the panel's new environment for the session's notebook (newenv.ts). */
  openNewEnvironment?(
    session: IRescueSession,
    request: INewEnvironmentRequest
  ): Promise<void> | void;
}

/**
 * Where the user is after pressing one of the banner's buttons.
 */
export type RescueStep =
  /** The plan is open in the panel, waiting to be confirmed. */
  | { kind: 'planning'; distribution: string }
  /** The plan was closed without installing. */
  | { kind: 'plan-closed'; distribution: string }
  | { kind: 'installing'; distribution: string }
  | { kind: 'installed'; distribution: string; restartNeeded: boolean }
  | { kind: 'install-failed'; distribution: string; message: string }
  | { kind: 'switching'; kernel: string }
  | { kind: 'switched'; kernel: string }
  | { kind: 'restarting' }
  | { kind: 'restarted' }
  | { kind: 'action-failed'; message: string };

export interface IRescueState {
  /** The top-level module that is missing. */
  module: string;
  status: 'loading' | 'ready' | 'error';
  response: IRescueResponse | null;
  error: EnvHelperAPIError | null;
  step: RescueStep | null;
}

/**
 * The state of one banner: one failed import in one notebook.
 */
export class RescueModel implements IDisposable {
  constructor(options: RescueModel.IOptions) {
    this._api = options.api;
    this._session = options.session;
    this._installer = options.installer ?? null;
    this._rerun = options.rerun;
    this._state = {
      module: options.module,
      status: 'loading',
      response: null,
      error: null,
      step: null
    };
  }

  /** Emitted whenever the state changes. */
  get changed(): ISignal<this, IRescueState> {
    return this._changed;
  }

  /** Emitted when the user dismisses the banner. */
  get dismissed(): ISignal<this, void> {
    return this._dismissed;
  }

  get state(): IRescueState {
    return this._state;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** The distribution that provides the module, if one was found. */
  get distribution(): IRescueDistribution | null {
    return this._state.response?.distribution ?? null;
  }

  /** Whether "Install here" can be offered. */
  get canInstall(): boolean {
    const response = this._state.response;
    const step = this._state.step?.kind;
    return (
      this._installer !== null &&
      !!response?.distribution &&
      (response.verdict === 'ok' || response.verdict === 'warning') &&
      step !== 'installing' &&
      step !== 'installed' &&
      step !== 'switching' &&
      step !== 'switched'
    );
  }

  /** Whether a switch, restart or install is under way. */
  get busy(): boolean {
    const step = this._state.step?.kind;
    return (
      step === 'installing' || step === 'switching' || step === 'restarting'
    );
  }

  /**
   * Ask the server who provides the module.
   */
  async start(): Promise<void> {
    this._request?.abort();
    const request = new AbortController();
    this._request = request;
    this._setState({
      ...this._state,
      status: 'loading',
      response: null,
      error: null
    });
    try {
      const response = await this._api.rescue(
        this._state.module,
        refOfSession(this._session),
        request.signal
      );
      if (request.signal.aborted || this._isDisposed) {
        return;
      }
      this._setState({ ...this._state, status: 'ready', response });
    } catch (error) {
      if (isAbortError(error) || request.signal.aborted || this._isDisposed) {
        return;
      }
      this._setState({
        ...this._state,
        status: 'error',
        error: toAPIError(error)
      });
    } finally {
      if (this._request === request) {
        this._request = null;
      }
    }
  }

  /**
   * Open the panel's plan for the distribution; the banner follows the job
   * the user confirms there.
   */
  async installHere(): Promise<void> {
    const distribution = this.distribution;
    if (!this._installer || !distribution) {
      return;
    }
    if (!this._following) {
      this._installer.jobStarted.connect(this._onJobStarted, this);
      this._installer.planChanged?.connect(this._onPlanChanged, this);
      this._following = true;
    }
    this._setStep({ kind: 'planning', distribution: distribution.name });
    try {
      // `requirement`: what the server pins (the magic's own kernel package)
      const requirement =
        typeof distribution.requirement === 'string' && distribution.requirement
          ? distribution.requirement
          : distribution.name;
      await this._installer.openPlan(this._session, requirement);
    } catch (error) {
      this._setStep({
        kind: 'action-failed',
        message: toAPIError(error).message
      });
    }
  }

  /**
   * A new environment, offered when no kernel can take the module: this
   * kernel's plan is blocked and no other kernel has it.
   */
  get newEnvironmentOffer(): INewEnvironmentRequest | null {
    const response = this._state.response;
    if (
      !this._installer?.openNewEnvironment ||
      !response ||
      response.verdict !== 'blocker' ||
      response.kernels_with_module.length > 0
    ) {
      return null;
    }
    const last = (response.suggestions ?? []).find(
      s => s.rank === 'new-environment'
    );
    return last?.new_environment
      ? {
          requirements: last.new_environment.requirements,
          python_version: last.new_environment.python_version,
          name: last.new_environment.name
        }
      : null;
  }

  /**
   * Open the panel's new environment for this notebook.
   */
  async createEnvironment(): Promise<void> {
    const request = this.newEnvironmentOffer;
    if (!request) {
      return;
    }
    try {
      await this._installer!.openNewEnvironment!(this._session, request);
    } catch (error) {
      this._setStep({
        kind: 'action-failed',
        message: toAPIError(error).message
      });
    }
  }

  /**
   * Switch the notebook to a kernel that already has the module.
   */
  async switchTo(name: string): Promise<void> {
    const kernel =
      this._state.response?.kernels_with_module.find(k => k.name === name)
        ?.display_name ?? name;
    this._setStep({ kind: 'switching', kernel });
    try {
      await this._session.changeKernel({ name });
      this._setStep({ kind: 'switched', kernel });
    } catch (error) {
      this._setStep({
        kind: 'action-failed',
        message: toAPIError(error).message
      });
    }
  }

  /**
   * Restart the notebook's kernel (the module is installed, but the kernel
   * started before).
   */
  async restart(): Promise<void> {
    this._setStep({ kind: 'restarting' });
    try {
      await this._session.restartKernel();
      this._setStep({ kind: 'restarted' });
    } catch (error) {
      this._setStep({
        kind: 'action-failed',
        message: toAPIError(error).message
      });
    }
  }

  /**
   * Run the failed cell again.
   */
  rerun(): void {
    this._rerun();
  }

  /**
   * Close the banner.
   */
  dismiss(): void {
    if (!this._isDisposed) {
      this._dismissed.emit();
      this.dispose();
    }
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
      this._installer?.planChanged?.disconnect(this._onPlanChanged, this);
    }
    this._job?.ended.disconnect(this._onJobEnded, this);
    this._job = null;
    Signal.clearData(this);
  }

  private _onPlanChanged(_: unknown, plan: unknown): void {
    const step = this._state.step;
    if (plan === null && step?.kind === 'planning') {
      // A confirmed plan closes too; the job that starts right after wins.
      this._setStep({ kind: 'plan-closed', distribution: step.distribution });
    }
  }

  private _onJobStarted(_: unknown, job: IRescueJob): void {
    const step = this._state.step;
    if (
      (step?.kind !== 'planning' && step?.kind !== 'plan-closed') ||
      job.job.kind !== 'install'
    ) {
      return;
    }
    const wanted = requirementName(step.distribution);
    if (!job.job.requirements.some(r => requirementName(r) === wanted)) {
      return;
    }
    if (!sameKernel(job.ref, refOfSession(this._session))) {
      return;
    }
    this._job?.ended.disconnect(this._onJobEnded, this);
    this._job = job;
    job.ended.connect(this._onJobEnded, this);
    this._setStep({ kind: 'installing', distribution: step.distribution });
  }

  private _onJobEnded(_: unknown, job: IJob): void {
    const step = this._state.step;
    this._job?.ended.disconnect(this._onJobEnded, this);
    this._job = null;
    if (step?.kind !== 'installing') {
      return;
    }
    if (job.state === 'succeeded') {
      this._setStep({
        kind: 'installed',
        distribution: step.distribution,
        restartNeeded: !!job.outcome?.restart_needed
      });
    } else {
      this._setStep({
        kind: 'install-failed',
        distribution: step.distribution,
        message:
          job.outcome?.failure?.message ||
          job.outcome?.message ||
          String(job.state)
      });
    }
  }

  private _setStep(step: RescueStep | null): void {
    this._setState({ ...this._state, step });
  }

  private _setState(state: IRescueState): void {
    if (this._isDisposed) {
      return;
    }
    this._state = state;
    this._changed.emit(state);
  }

  private _api: IRescueAPI;
  private _session: IRescueSession;
  private _installer: IRescueInstaller | null;
  private _rerun: () => void;
  private _state: IRescueState;
  private _request: AbortController | null = null;
  private _following = false;
  private _job: IRescueJob | null = null;
  private _isDisposed = false;
  private _changed = new Signal<this, IRescueState>(this);
  private _dismissed = new Signal<this, void>(this);
}

export namespace RescueModel {
  export interface IOptions {
    api: IRescueAPI;
    session: IRescueSession;
    /** The missing top-level module. */
    module: string;
    /** Without it, no "Install here". */
    installer?: IRescueInstaller | null;
    /** Run the failed cell again. */
    rerun: () => void;
  }
}

/**
 * A notebook, as far as the rescue needs it.
 */
export interface IRescueNotebook {
  readonly session: IRescueSession;
  /** Show the banner in the notebook. */
  attach(banner: Widget): void;
  /** Run a cell of the notebook again. */
  rerun(cell: unknown): void;
}

/**
 * What `NotebookActions.executed` sends.
 */
export interface IExecutedArgs {
  notebook: unknown;
  cell: unknown;
  success: boolean;
  error?: unknown;
}

/**
 * Watches cell executions and puts one banner per notebook after a missing
 * module; a later success of that cell removes it.
 */
export class RescueController implements IDisposable {
  constructor(options: RescueController.IOptions) {
    this._options = options;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * The banner of a notebook, if it shows one.
   */
  modelFor(notebook: unknown): RescueModel | null {
    return this._banners.get(notebook)?.model ?? null;
  }

  /**
   * React to one cell execution.
   *
   * @returns the new banner's model, if a banner was made
   */
  handle(args: IExecutedArgs): RescueModel | null {
    if (this._isDisposed) {
      return null;
    }
    const current = this._banners.get(args.notebook) ?? null;
    const module = args.success ? null : missingModule(args.error);
    if (!module) {
      // The failed cell ran again and got past the import: done.
      if (current && current.cell === args.cell) {
        this._remove(args.notebook);
      }
      return null;
    }
    if (!this._options.isEnabled()) {
      return null;
    }
    const host = this._options.find(args.notebook);
    if (!host) {
      return null;
    }
    this._remove(args.notebook);
    const model = new RescueModel({
      api: this._options.api,
      session: host.session,
      module,
      installer: this._options.installer ?? null,
      rerun: () => host.rerun(args.cell)
    });
    const widget = this._options.createBanner(model);
    const entry = { model, widget, cell: args.cell };
    this._banners.set(args.notebook, entry);
    model.dismissed.connect(() => this._remove(args.notebook));
    widget.disposed.connect(() => {
      if (this._banners.get(args.notebook) === entry) {
        this._banners.delete(args.notebook);
      }
      model.dispose();
    });
    host.attach(widget);
    void model.start();
    return model;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    for (const notebook of [...this._banners.keys()]) {
      this._remove(notebook);
    }
  }

  private _remove(notebook: unknown): void {
    const entry = this._banners.get(notebook);
    if (!entry) {
      return;
    }
    this._banners.delete(notebook);
    entry.model.dispose();
    entry.widget.dispose();
  }

  private _options: RescueController.IOptions;
  private _banners = new Map<
    unknown,
    { model: RescueModel; widget: Widget; cell: unknown }
  >();
  private _isDisposed = false;
}

export namespace RescueController {
  export interface IOptions {
    api: IRescueAPI;
    installer?: IRescueInstaller | null;
    /** Whether the setting is on (read at each failure). */
    isEnabled: () => boolean;
    /** The notebook an execution happened in, if it is one we help with. */
    find: (notebook: unknown) => IRescueNotebook | null;
    /** Make the banner showing a model. */
    createBanner: (model: RescueModel) => Widget;
  }
}
