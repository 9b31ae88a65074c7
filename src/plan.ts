/**
 * What installing would do to the followed kernel, before anything is
 * installed: the plan request, its findings' actions (re-plan with another
 * requirement, switch or restart the notebook's kernel) and the confirmation
 * that starts the job. No DOM here.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import {
  IChangeAPI,
  IFindingAction,
  IJob,
  IKernelRef,
  IPlanRequest,
  IPlanResponse,
  KERNEL_DISTRIBUTION
} from './api';
import type { IKernelSource, IKernelTarget } from './model';
import { EnvHelperAPIError, isAbortError, toAPIError } from './request';

/**
 * What the plan needs from the panel's model: the kernel it follows.
 */
export interface IKernelHost {
  readonly kernel: IKernelTarget | null;
  readonly source: IKernelSource | null;
  /** Emitted when the followed kernel or its status change. */
  readonly environmentChanged: ISignal<unknown, unknown>;
}

/**
 * What the plan is waiting for besides the plan itself.
 */
/**
 * Why a plan was made again: `environment-changed` when an install was
 * refused because the environment changed since the plan.
 */
export type PlanNote = 'environment-changed';

export type PlanBusy = 'switching' | 'restarting' | 'starting' | null;

export interface IPlanState {
  /** What the user asked for, e.g. `["pandas>=2"]`. */
  requirements: string[];
  options: Omit<IPlanRequest, 'requirements'>;
  status: 'loading' | 'ready' | 'error';
  response: IPlanResponse | null;
  error: EnvHelperAPIError | null;
  /** The kernel the plan is (being) made for. */
  kernelName: string;
  /** Something to tell above the plan. */
  note: PlanNote | null;
  busy: PlanBusy;
  /** Why the last switch, restart or install could not start. */
  actionError: EnvHelperAPIError | null;
}

/**
 * The plan view's state.
 */
export class PlanModel implements IDisposable {
  constructor(options: PlanModel.IOptions) {
    this._api = options.api;
    this._host = options.host;
    this._host.environmentChanged.connect(this._onHostChanged, this);
  }

  /** Emitted whenever the state changes. */
  get changed(): ISignal<this, IPlanState | null> {
    return this._changed;
  }

  /** The open plan, or null when none is shown. */
  get state(): IPlanState | null {
    return this._state;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Whether the open plan can be confirmed: a plan, no blocker, nothing
   * pending.
   */
  get canInstall(): boolean {
    const state = this._state;
    return (
      !!state &&
      state.status === 'ready' &&
      state.busy === null &&
      state.response?.state === 'plan' &&
      !!state.response.plan &&
      state.response.verdict !== 'blocker' &&
      !state.response.findings.some(f => f.severity === 'blocker')
    );
  }

  /**
   * Plan installing `requirements` into the followed kernel.
   */
  open(
    requirements: string[],
    options: Omit<IPlanRequest, 'requirements'> = {}
  ): Promise<void> {
    const cleaned = requirements.map(r => r.trim()).filter(Boolean);
    this._setState({
      requirements: cleaned,
      options,
      status: 'loading',
      response: null,
      error: null,
      kernelName: this._host.kernel?.displayName ?? '',
      note: null,
      busy: null,
      actionError: null
    });
    return this._plan();
  }

  /**
   * Plan the small kernel-side package that makes `%envhelp` work in the
   * followed kernel (its exact version comes from the server).
   */
  async openEnableMagic(): Promise<void> {
    const kernel = this._host.kernel;
    const ref: IKernelRef = kernel
      ? { kernelId: kernel.kernelId, specName: kernel.specName }
      : {};
    const placeholder = [KERNEL_DISTRIBUTION];
    if (!this._api.enableMagic) {
      return this.open(placeholder);
    }
    this._setState({
      requirements: placeholder,
      options: {},
      status: 'loading',
      response: null,
      error: null,
      kernelName: kernel?.displayName ?? '',
      note: null,
      busy: null,
      actionError: null
    });
    try {
      const answer = await this._api.enableMagic(ref);
      if (this._state?.requirements !== placeholder) {
        return; // closed or replaced meanwhile
      }
      return this.open([answer.requirement]);
    } catch (error) {
      if (this._state?.requirements === placeholder) {
        this._setState({
          ...this._state,
          status: 'error',
          error: toAPIError(error)
        });
      }
    }
  }

  /**
   * Plan the same requirements again (for the kernel followed now).
   */
  replan(note: PlanNote | null = null): Promise<void> {
    if (!this._state) {
      return Promise.resolve();
    }
    this._setState({
      ...this._state,
      status: 'loading',
      error: null,
      note,
      kernelName: this._host.kernel?.displayName ?? this._state.kernelName
    });
    return this._plan();
  }

  close(): void {
    this._request?.abort();
    this._request = null;
    this._setState(null);
  }

  /**
   * Do what a finding or a way out offers.
   */
  runAction(action: IFindingAction): Promise<void> {
    switch (action.kind) {
      case 'use-requirement':
        if (action.requirement && this._state) {
          // A GPU finding's build lives on a PyTorch backend index: ask for it by
          // name, the server knows the URL.
          const backend = action.torch_backend;
          const options =
            typeof backend === 'string' && backend
              ? { ...this._state.options, torch_backend: backend }
              : this._state.options;
          return this.open(
            withRequirement(this._state.requirements, action.requirement),
            options
          );
        }
        break;
      case 'switch-kernel':
        if (action.kernel) {
          return this.switchKernel(action.kernel);
        }
        break;
      case 'restart-kernel':
        return this.restartKernel();
      default:
        break;
    }
    return Promise.resolve();
  }

  /**
   * Change the notebook's kernel to the kernelspec `name`, then plan for it.
   */
  async switchKernel(name: string): Promise<void> {
    const source = this._host.source;
    if (!source || !this._state) {
      return;
    }
    this._setState({ ...this._state, busy: 'switching', actionError: null });
    try {
      await source.changeKernel({ name });
    } catch (error) {
      this._actionFailed(error);
      return;
    }
    if (!this._state) {
      return;
    }
    this._setState({ ...this._state, busy: null });
    // Resolve once switched; the new plan arrives through `changed`.
    void this._planIfKernelChanged(true);
  }

  /**
   * Restart the notebook's kernel, then plan again.
   */
  async restartKernel(): Promise<void> {
    const source = this._host.source;
    if (!source || !this._state) {
      return;
    }
    this._setState({ ...this._state, busy: 'restarting', actionError: null });
    try {
      await source.restartKernel();
    } catch (error) {
      this._actionFailed(error);
      return;
    }
    if (!this._state) {
      return;
    }
    this._setState({ ...this._state, busy: null });
    void this.replan();
  }

  /**
   * Start installing the plan. Resolves with the job the server started, or
   * null when it did not start (the state says why). When the environment
   * changed since the plan, plans again and asks the user to confirm again.
   */
  async confirm(): Promise<IJob | null> {
    const state = this._state;
    const plan = state?.response?.plan;
    if (!state || !plan || !this.canInstall) {
      return null;
    }
    const ref = this._plannedRef ?? {};
    this._setState({ ...state, busy: 'starting', actionError: null });
    try {
      const { job } = await this._api.startJob(ref, {
        action: 'install',
        requirements: plan.requirements.length
          ? plan.requirements
          : state.requirements,
        fingerprint: state.response!.fingerprint,
        ...(state.options.torch_backend
          ? { torch_backend: state.options.torch_backend }
          : {})
      });
      if (this._state === null) {
        return job;
      }
      this._setState({ ...this._state, busy: null });
      return job;
    } catch (error) {
      const apiError = toAPIError(error);
      if (apiError.status === 409 && apiError.reason === 'changed') {
        if (this._state) {
          this._setState({ ...this._state, busy: null });
        }
        await this.replan('environment-changed');
        return null;
      }
      this._actionFailed(apiError);
      return null;
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._request?.abort();
    this._host.environmentChanged.disconnect(this._onHostChanged, this);
    Signal.clearData(this);
  }

  private _plan(): Promise<void> {
    const state = this._state!;
    this._request?.abort();
    const controller = new AbortController();
    this._request = controller;
    const kernel = this._host.kernel;
    const ref: IKernelRef = kernel
      ? { kernelId: kernel.kernelId, specName: kernel.specName }
      : {};
    this._plannedRef = ref;
    return this._api
      .plan(
        ref,
        { requirements: state.requirements, ...state.options },
        controller.signal
      )
      .then(
        response => {
          if (controller.signal.aborted || !this._state) {
            return;
          }
          this._request = null;
          this._setState({
            ...this._state,
            status: 'ready',
            response,
            error: null,
            kernelName:
              kernel?.displayName ||
              response.kernel?.display_name ||
              this._state.kernelName
          });
        },
        (error: unknown) => {
          if (
            controller.signal.aborted ||
            !this._state ||
            isAbortError(error)
          ) {
            return;
          }
          this._request = null;
          this._setState({
            ...this._state,
            status: 'error',
            response: null,
            error: toAPIError(error)
          });
        }
      );
  }

  private _onHostChanged(): void {
    if (this._state && this._state.busy === null) {
      void this._planIfKernelChanged(false);
    }
  }

  /**
   * Plan again when the followed kernel is another one than the plan's.
   */
  private _planIfKernelChanged(force: boolean): Promise<void> {
    const kernel = this._host.kernel;
    if (!this._state || !kernel) {
      return Promise.resolve();
    }
    const planned = this._plannedRef;
    const same =
      planned !== null &&
      planned.kernelId === kernel.kernelId &&
      planned.specName === kernel.specName;
    if (same && !force) {
      return Promise.resolve();
    }
    // A kernel still starting is planned for once its id is known.
    if (!kernel.kernelId && !force) {
      return Promise.resolve();
    }
    if (same && force && this._state.status === 'ready') {
      return Promise.resolve();
    }
    return this.replan();
  }

  private _actionFailed(error: unknown): void {
    if (!this._state) {
      return;
    }
    this._setState({
      ...this._state,
      busy: null,
      actionError: toAPIError(error)
    });
  }

  private _setState(state: IPlanState | null): void {
    this._state = state;
    this._changed.emit(state);
  }

  private _api: IChangeAPI;
  private _host: IKernelHost;
  private _state: IPlanState | null = null;
  private _plannedRef: IKernelRef | null = null;
  private _request: AbortController | null = null;
  private _isDisposed = false;
  private _changed = new Signal<this, IPlanState | null>(this);
}

export namespace PlanModel {
  export interface IOptions {
    api: IChangeAPI;
    host: IKernelHost;
  }
}

/**
 * The project name of a requirement string, normalized (PEP 503), or ''.
 */
export function requirementName(requirement: string): string {
  const match = /^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)/.exec(
    requirement
  );
  return match ? match[1].toLowerCase().replace(/[-_.]+/g, '-') : '';
}

/**
 * The requirements with `requirement` in place of those naming the same
 * project (or added, when none does).
 */
export function withRequirement(
  requirements: readonly string[],
  requirement: string
): string[] {
  const name = requirementName(requirement);
  let replaced = false;
  const result: string[] = [];
  for (const r of requirements) {
    if (name && requirementName(r) === name) {
      if (!replaced) {
        result.push(requirement);
        replaced = true;
      }
    } else {
      result.push(r);
    }
  }
  if (!replaced) {
    result.push(requirement);
  }
  return result;
}

/**
 * The requirements in what a user typed: `pandas>=2 numpy`, `alpha==3.0,
 * beta==2.0`, `pandas >= 2, < 3` (one), `pkg[a, b]; python_version < "3.12"`
 * (one). A word starting with a letter begins a new requirement unless it
 * continues a specifier or follows a marker (`;`).
 */
export function splitRequirements(text: string): string[] {
  const tokens: string[] = [];
  let depth = 0;
  let token = '';
  for (const c of text) {
    if (c === '[' || c === '(') {
      depth++;
    } else if ((c === ']' || c === ')') && depth > 0) {
      depth--;
    }
    if (depth === 0 && /\s/.test(c)) {
      if (token) {
        tokens.push(token);
      }
      token = '';
    } else {
      token += c;
    }
  }
  if (token) {
    tokens.push(token);
  }
  const requirements: string[] = [];
  let current = '';
  for (const word of tokens) {
    const startsName = /^[A-Za-z0-9]/.test(word) && !/^\d/.test(word);
    const inMarker = current.includes(';');
    const open = /(?:[<>=!~]|,|;|@)$/.test(current) && !current.endsWith(',');
    if (!current) {
      current = word;
    } else if (startsName && !inMarker && !open) {
      requirements.push(current.replace(/,$/, ''));
      current = word;
    } else {
      current += ' ' + word;
    }
  }
  if (current) {
    requirements.push(current.replace(/,$/, ''));
  }
  return requirements
    .flatMap(r => splitTopLevelCommas(r))
    .map(r => r.trim())
    .filter(Boolean);
}

/**
 * `alpha==3.0,beta==2.0` → two; `pandas>=2,<3` and `pkg[a,b]` → one.
 */
function splitTopLevelCommas(requirement: string): string[] {
  if (requirement.includes(';')) {
    return [requirement];
  }
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < requirement.length; i++) {
    const c = requirement[i];
    if (c === '[' || c === '(') {
      depth++;
    } else if ((c === ']' || c === ')') && depth > 0) {
      depth--;
    } else if (
      c === ',' &&
      depth === 0 &&
      /^\s*[A-Za-z]/.test(requirement.slice(i + 1))
    ) {
      parts.push(requirement.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(requirement.slice(start));
  return parts;
}
