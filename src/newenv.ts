/**
 * When no kernel fits: a new environment with its own kernel, from the panel.
 *
 * The plan comes first (`POST envhelper/environments/plan`: which Python, the
 * packages with ipykernel, the size, the findings); nothing is made until the
 * user confirms. Then `POST envhelper/environments` starts a job of kind
 * `create`, followed like every job (`GET envhelper/jobs/<id>`), cancellable;
 * when it succeeds the notebook switches to the new kernel
 * (`sessionContext.changeKernel({ name })`). No DOM here.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import type { IConflict, IFinding, IJob, IJobResponse, IPlan } from './api';
import type { IKernelSource } from './model';
import {
  EnvHelperAPIError,
  isAbortError,
  requestAPI,
  toAPIError
} from './request';

/**
 * What a new environment is asked for (a suggestion's `new_environment`).
 */
export interface INewEnvironmentRequest {
  requirements: string[];
  python_version?: string | null;
  name?: string | null;
}

export interface INewEnvironmentPython {
  path: string | null;
  version: string;
  python_version: string;
  implementation: string;
  sources: string[];
  download: boolean;
}

/**
 * `POST envhelper/environments/plan`'s answer.
 */
export interface INewEnvironmentPlan {
  schema: number;
  name: string;
  kernel_name: string;
  display_name: string;
  directory: string;
  python: INewEnvironmentPython;
  requirements: string[];
  planned_requirements: string[];
  tried: {
    python_version: string;
    verdict: string;
    message: string;
  }[];
  ready: boolean;
  state: 'plan' | 'conflict';
  plan: IPlan | null;
  conflict: IConflict | null;
  findings: IFinding[];
  verdict: string;
}

export interface ICreateResponse extends IJobResponse {
  environment: { name: string; path: string; kernel_name: string };
}

export type NewEnvironmentStatus =
  | 'planning'
  | 'planned'
  | 'creating'
  | 'switching'
  | 'done'
  | 'failed'
  | 'error';

export interface INewEnvironmentState {
  request: INewEnvironmentRequest;
  status: NewEnvironmentStatus;
  plan: INewEnvironmentPlan | null;
  /** The kernel name to create (editable until the job starts). */
  name: string;
  job: IJob | null;
  error: EnvHelperAPIError | null;
}

/**
 * How the model calls the server (`requestAPI`; tests give their own).
 */
export type Fetcher = <T>(endPoint: string, init?: RequestInit) => Promise<T>;

/**
 * What the model needs from the panel: the notebook's session to switch.
 */
export interface INewEnvironmentHost {
  readonly source: IKernelSource | null;
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };
const FINISHED = new Set(['succeeded', 'failed', 'cancelled', 'interrupted']);

export class NewEnvironmentModel implements IDisposable {
  constructor(options: NewEnvironmentModel.IOptions) {
    this._host = options.host;
    this._fetch =
      options.fetch ?? (<T>(e: string, i?: RequestInit) => requestAPI<T>(e, i));
    this._pollMs = options.pollMs ?? 500;
  }

  get changed(): ISignal<this, INewEnvironmentState | null> {
    return this._changed;
  }

  get state(): INewEnvironmentState | null {
    return this._state;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /**
   * Plan a new environment for `request`; nothing is created.
   */
  async open(request: INewEnvironmentRequest): Promise<void> {
    this._abort?.abort();
    const abort = new AbortController();
    this._abort = abort;
    this._set({
      request,
      status: 'planning',
      plan: null,
      name: request.name ?? '',
      job: null,
      error: null
    });
    try {
      const plan = await this._fetch<INewEnvironmentPlan>('environments/plan', {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify(planBody(request)),
        signal: abort.signal
      });
      if (this._state?.request !== request) {
        return;
      }
      this._set({
        ...this._state,
        status: 'planned',
        plan,
        name: this._state.name || plan.kernel_name
      });
    } catch (error) {
      if (!isAbortError(error) && this._state?.request === request) {
        this._set({
          ...this._state,
          status: 'error',
          error: toAPIError(error)
        });
      }
    }
  }

  setName(name: string): void {
    if (this._state && this._state.status === 'planned') {
      this._set({ ...this._state, name: name.trim(), error: null });
    }
  }

  get canCreate(): boolean {
    const state = this._state;
    return (
      !!state &&
      state.status === 'planned' &&
      !!state.plan?.ready &&
      /^[a-z0-9][a-z0-9._-]{0,63}$/.test(state.name)
    );
  }

  /**
   * Create the planned environment, follow its job, then switch the
   * notebook to the new kernel.
   */
  async create(): Promise<void> {
    const state = this._state;
    if (!state || !state.plan || !this.canCreate) {
      return;
    }
    const request = state.request;
    this._set({ ...state, status: 'creating', error: null });
    let job: IJob;
    try {
      const started = await this._fetch<ICreateResponse>('environments', {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify({
          name: state.name,
          requirements: request.requirements,
          python_version: state.plan.python.python_version,
          allow_download: state.plan.python.download
        })
      });
      job = started.job;
    } catch (error) {
      if (this._state?.request === request) {
        this._set({
          ...this._state,
          status: 'planned',
          error: toAPIError(error)
        });
      }
      return;
    }
    while (!FINISHED.has(String(job.state))) {
      if (this._state?.request !== request) {
        return;
      }
      this._set({ ...this._state, job });
      await new Promise(resolve => setTimeout(resolve, this._pollMs));
      try {
        job = (await this._fetch<IJobResponse>(`jobs/${job.id}`)).job;
      } catch (error) {
        this._set({
          ...this._state!,
          status: 'error',
          error: toAPIError(error)
        });
        return;
      }
    }
    if (this._state?.request !== request) {
      return;
    }
    if (job.state !== 'succeeded') {
      this._set({ ...this._state, status: 'failed', job });
      return;
    }
    this._set({ ...this._state, status: 'switching', job });
    try {
      await this._host.source?.changeKernel({ name: state.name });
    } catch (error) {
      this._set({
        ...this._state,
        status: 'error',
        job,
        error: toAPIError(error)
      });
      return;
    }
    this._set({ ...this._state, status: 'done', job });
  }

  /** Stop the running creation (its job removes what it made). */
  async cancel(): Promise<void> {
    const job = this._state?.job;
    if (job && this._state?.status === 'creating') {
      try {
        await this._fetch(`jobs/${job.id}/cancel`, {
          method: 'POST',
          headers: JSON_HEADERS
        });
      } catch (error) {
        this._set({ ...this._state, error: toAPIError(error) });
      }
    }
  }

  close(): void {
    this._abort?.abort();
    this._abort = null;
    this._set(null);
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._abort?.abort();
    Signal.clearData(this);
  }

  private _set(state: INewEnvironmentState | null): void {
    this._state = state;
    this._changed.emit(state);
  }

  private _host: INewEnvironmentHost;
  private _fetch: Fetcher;
  private _pollMs: number;
  private _abort: AbortController | null = null;
  private _state: INewEnvironmentState | null = null;
  private _disposed = false;
  private _changed = new Signal<this, INewEnvironmentState | null>(this);
}

export namespace NewEnvironmentModel {
  export interface IOptions {
    host: INewEnvironmentHost;
    fetch?: Fetcher;
    pollMs?: number;
  }
}

function planBody(request: INewEnvironmentRequest): Record<string, unknown> {
  const body: Record<string, unknown> = { requirements: request.requirements };
  if (request.python_version) {
    body.python_version = request.python_version;
  }
  if (request.name) {
    body.name = request.name;
  }
  return body;
}

/**
 * A suggestion's or a way out's action as a request (null when it is not one).
 */
export function newEnvironmentOf(
  action: Record<string, unknown>
): INewEnvironmentRequest | null {
  const requirements = action.requirements;
  if (
    action.kind !== 'new-environment' ||
    !Array.isArray(requirements) ||
    !requirements.every(r => typeof r === 'string')
  ) {
    return null;
  }
  return {
    requirements: requirements as string[],
    python_version:
      typeof action.python_version === 'string' ? action.python_version : null,
    name: typeof action.name === 'string' ? action.name : null
  };
}
