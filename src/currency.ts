/**
 * Keeping the followed kernel current: what is outdated, the dependency graph,
 * and updates as plans (the normal plan view, then one job in the history).
 * No DOM here.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import {
  IJobResponse,
  IKernelRef,
  IPlanResponse,
  kernelBody,
  kernelQuery
} from './api';
import type { ChangesModel } from './changes';
import { refOf } from './history';
import type { IKernelHost, IPlanState } from './plan';
import { EnvHelperAPIError, requestAPI, toAPIError } from './request';

export type OutdatedStatus =
  'update' | 'held-back' | 'current' | 'unmanaged' | 'not-on-index' | 'unknown';

export interface IBlocker {
  kind: 'dependent' | 'constraint' | 'python' | 'platform' | 'build' | string;
  message: string;
  name: string | null;
  version: string | null;
  requirement: string | null;
}

export interface IOutdatedRow {
  name: string;
  canonical_name: string;
  installed: string;
  status: OutdatedStatus;
  latest: string | null;
  latest_usable: string | null;
  fit: string | null;
  fit_needs_build: boolean;
  blocked: IBlocker[];
  message: string;
  requested: boolean;
  required_by: string[];
  reason: string | null;
}

export interface IOutdatedResponse {
  schema: number;
  packages: IOutdatedRow[];
  counts: Record<string, number>;
  outdated: number;
  held_back: number;
  elapsed_ms: number;
  warnings: string[];
}

export interface IGraphNode {
  name: string;
  canonical_name: string;
  version: string;
  requested: boolean;
  depth: number;
  required_by: number;
  orphan: boolean;
  editable: boolean;
}

export interface IGraphEdge {
  parent: string;
  child: string;
  requirement: string;
  satisfied: boolean;
  installed: boolean;
}

export interface IGraphResponse {
  schema: number;
  roots: string[];
  nodes: IGraphNode[];
  edges: IGraphEdge[];
  broken: IGraphEdge[];
  orphans: string[];
  focus: string | null;
}

export type UpdateMode = 'names' | 'all' | 'all-that-fit';

export interface IUpdatePackage {
  name: string;
  from: string;
  to: string;
  latest: string | null;
  fits: boolean;
  requested: boolean;
  pulled_in_by: string[];
  message: string;
}

export interface IUpdatePlanResponse extends Omit<IPlanResponse, 'state'> {
  state: 'plan' | 'conflict' | 'up-to-date';
  update: {
    mode: UpdateMode;
    requirements: string[];
    packages: IUpdatePackage[];
    held_back: string[];
    message?: string;
  };
}

/**
 * The currency endpoints.
 */
export class CurrencyAPI {
  outdated(ref: IKernelRef): Promise<IOutdatedResponse> {
    return requestAPI<IOutdatedResponse>(`outdated?${kernelQuery(ref)}`);
  }

  graph(ref: IKernelRef, name?: string): Promise<IGraphResponse> {
    const query = kernelQuery(ref);
    if (name) {
      query.set('name', name);
    }
    return requestAPI<IGraphResponse>(`graph?${query}`);
  }

  planUpdate(
    ref: IKernelRef,
    mode: UpdateMode,
    names: string[] = []
  ): Promise<IUpdatePlanResponse> {
    return requestAPI<IUpdatePlanResponse>('update/plan', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...kernelBody(ref), mode, names })
    });
  }

  startUpdate(
    ref: IKernelRef,
    requirements: string[],
    fingerprint: string | null
  ): Promise<IJobResponse> {
    return requestAPI<IJobResponse>('update', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...kernelBody(ref), requirements, fingerprint })
    });
  }
}

export interface ILoad<T> {
  status: 'idle' | 'loading' | 'ready' | 'error';
  response: T | null;
  error: EnvHelperAPIError | null;
}

/** Which list the installed tab shows. */
export type InstalledMode = 'all' | 'outdated' | 'graph';

/**
 * Outdated packages, the graph and the open update plan of the followed kernel.
 */
export class CurrencyModel implements IDisposable {
  constructor(options: CurrencyModel.IOptions) {
    this._api = options.api ?? new CurrencyAPI();
    this._host = options.host;
    this._changes = options.changes;
    this._host.environmentChanged.connect(this._onHostChanged, this);
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  get mode(): InstalledMode {
    return this._mode;
  }

  set mode(mode: InstalledMode) {
    this._mode = mode;
    this._changed.emit();
    if (mode === 'outdated' && this.outdated.status === 'idle') {
      void this.loadOutdated();
    }
    if (mode === 'graph' && this.graph.status === 'idle') {
      void this.loadGraph();
    }
  }

  get outdated(): ILoad<IOutdatedResponse> {
    return this._outdated;
  }

  get graph(): ILoad<IGraphResponse> {
    return this._graph;
  }

  /** The outdated row of each package (canonical name), once loaded. */
  get rows(): Map<string, IOutdatedRow> {
    const out = new Map<string, IOutdatedRow>();
    for (const row of this._outdated.response?.packages ?? []) {
      out.set(row.canonical_name, row);
    }
    return out;
  }

  /** The open update plan, in the plan view's state. */
  get plan(): IPlanState | null {
    return this._plan;
  }

  get planResponse(): IUpdatePlanResponse | null {
    return this._planResponse;
  }

  get canInstall(): boolean {
    const state = this._plan;
    const response = this._planResponse;
    return (
      !!state &&
      !!response &&
      state.status === 'ready' &&
      state.busy === null &&
      response.state === 'plan' &&
      !!response.plan &&
      response.verdict !== 'blocker' &&
      !response.findings.some(f => f.severity === 'blocker')
    );
  }

  async loadOutdated(): Promise<void> {
    const ref = refOf(this._host);
    this._outdated = { ...this._outdated, status: 'loading', error: null };
    this._changed.emit();
    try {
      const response = await this._api.outdated(ref);
      this._outdated = { status: 'ready', response, error: null };
    } catch (error) {
      this._outdated = {
        status: 'error',
        response: null,
        error: toAPIError(error)
      };
    }
    this._changed.emit();
  }

  async loadGraph(name?: string): Promise<void> {
    const ref = refOf(this._host);
    this._graph = { ...this._graph, status: 'loading', error: null };
    this._changed.emit();
    try {
      const response = await this._api.graph(ref, name);
      this._graph = { status: 'ready', response, error: null };
    } catch (error) {
      this._graph = {
        status: 'error',
        response: null,
        error: toAPIError(error)
      };
    }
    if (this.outdated.status === 'idle') {
      void this.loadOutdated(); // the graph marks outdated packages
    }
    this._changed.emit();
  }

  /**
   * Open the plan of an update: `names` (each to its newest fitting
   * version), every outdated package (`all`), or those that fit.
   */
  async planUpdate(mode: UpdateMode, names: string[] = []): Promise<void> {
    const ref = refOf(this._host);
    this._ref = ref;
    const kernelName = this._host.kernel?.displayName ?? '';
    this._planMode = { mode, names };
    this._plan = {
      requirements: names,
      options: {},
      status: 'loading',
      response: null,
      error: null,
      kernelName,
      note: null,
      busy: null,
      actionError: null
    };
    this._planResponse = null;
    this._changed.emit();
    try {
      const response = await this._api.planUpdate(ref, mode, names);
      if (!this._plan) {
        return;
      }
      this._planResponse = response;
      this._plan = {
        ...this._plan,
        requirements: response.update.requirements,
        status: 'ready',
        response:
          response.state === 'up-to-date'
            ? null
            : (response as unknown as IPlanResponse)
      };
    } catch (error) {
      if (this._plan) {
        this._plan = {
          ...this._plan,
          status: 'error',
          error: toAPIError(error)
        };
      }
    }
    this._changed.emit();
  }

  replan(): Promise<void> {
    const { mode, names } = this._planMode;
    return this.planUpdate(mode, names);
  }

  closePlan(): void {
    this._plan = null;
    this._planResponse = null;
    this._changed.emit();
  }

  /**
   * Run the open update plan as one job; the panel follows it like any other.
   */
  async confirm(): Promise<void> {
    const state = this._plan;
    const response = this._planResponse;
    if (!state || !response || !this.canInstall) {
      return;
    }
    this._plan = { ...state, busy: 'starting', actionError: null };
    this._changed.emit();
    try {
      const { job } = await this._api.startUpdate(
        this._ref,
        response.update.requirements,
        response.fingerprint
      );
      this._plan = null;
      this._planResponse = null;
      this._outdated = { status: 'idle', response: null, error: null };
      this._changed.emit();
      this._changes.follow(job, this._ref, state.kernelName);
    } catch (error) {
      if (this._plan) {
        this._plan = {
          ...this._plan,
          busy: null,
          actionError: toAPIError(error)
        };
      }
      this._changed.emit();
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._host.environmentChanged.disconnect(this._onHostChanged, this);
    Signal.clearData(this);
  }

  private _onHostChanged(_: unknown, state: unknown): void {
    // Only another kernel or a newly read environment makes what was known
    // stale: the signal also fires for every busy/idle of the kernel, and
    // asking again then would keep the kernel busy answering.
    const ref = refOf(this._host);
    const key = `${ref.kernelId ?? ''}|${ref.specName ?? ''}`;
    const response =
      state && typeof state === 'object' && 'response' in state
        ? (state as { response: unknown }).response
        : null;
    if (key === this._seenKernel && response === this._seenResponse) {
      return;
    }
    const first = this._seenKernel === null;
    this._seenKernel = key;
    this._seenResponse = response;
    if (first && response === null) {
      return;
    }
    this._outdated = { status: 'idle', response: null, error: null };
    this._graph = { status: 'idle', response: null, error: null };
    if (this._mode === 'outdated') {
      void this.loadOutdated();
    } else if (this._mode === 'graph') {
      void this.loadGraph();
    } else {
      this._changed.emit();
    }
  }

  private _api: CurrencyAPI;
  private _host: IKernelHost;
  private _changes: ChangesModel;
  private _mode: InstalledMode = 'all';
  private _outdated: ILoad<IOutdatedResponse> = {
    status: 'idle',
    response: null,
    error: null
  };
  private _graph: ILoad<IGraphResponse> = {
    status: 'idle',
    response: null,
    error: null
  };
  private _plan: IPlanState | null = null;
  private _planResponse: IUpdatePlanResponse | null = null;
  private _planMode: { mode: UpdateMode; names: string[] } = {
    mode: 'names',
    names: []
  };
  private _ref: IKernelRef = {};
  private _seenKernel: string | null = null;
  private _seenResponse: unknown = null;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
}

export namespace CurrencyModel {
  export interface IOptions {
    host: IKernelHost;
    changes: ChangesModel;
    api?: CurrencyAPI;
  }
}
