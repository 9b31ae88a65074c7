/**
 * The panel's state: which kernel it follows, that kernel's environment, the
 * package search and the package being looked at. No DOM here.
 */
import type { ISessionContext } from '@jupyterlab/apputils';
import type { Kernel } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import {
  IDistribution,
  IEnvHelperAPI,
  IEnvironmentResponse,
  IKernelRef,
  IPackageDetails,
  ISearchHit
} from './api';
import { EnvHelperAPIError, isAbortError } from './request';

/**
 * What the model needs from a notebook's or console's session context.
 */
export type IKernelSource = Pick<
  ISessionContext,
  | 'kernelChanged'
  | 'sessionChanged'
  | 'statusChanged'
  | 'session'
  | 'kernelDisplayName'
  | 'kernelPreference'
  | 'hasNoKernel'
  | 'isReady'
  | 'ready'
  | 'isDisposed'
  | 'disposed'
  | 'changeKernel'
  | 'restartKernel'
>;

/**
 * The kernel the panel follows, as far as the front end knows it.
 */
export interface IKernelTarget {
  displayName: string;
  specName: string | null;
  kernelId: string | null;
  status: Kernel.Status;
}

export type EnvironmentStatus =
  | 'empty' // no notebook or console
  | 'no-kernel' // a notebook or console without a kernel
  | 'starting' // its kernel is not known yet
  | 'loading'
  | 'ready'
  | 'error';

export interface IEnvironmentState {
  status: EnvironmentStatus;
  response: IEnvironmentResponse | null;
  error: EnvHelperAPIError | null;
}

export type SearchStatus = 'idle' | 'pending' | 'loading' | 'ready' | 'error';

export interface ISearchState {
  /** What the user typed. */
  query: string;
  status: SearchStatus;
  /** The query the current hits answer. */
  resultQuery: string;
  hits: ISearchHit[];
  /** The server's remark on these results (e.g. an incomplete search). */
  note: string | null;
  error: EnvHelperAPIError | null;
}

export interface IDetailsState {
  name: string;
  status: 'loading' | 'ready' | 'error';
  details: IPackageDetails | null;
  error: EnvHelperAPIError | null;
}

/**
 * Which list the panel shows under the environment header.
 */
export type PanelView = 'installed' | 'search' | 'history';

const REFRESH_AFTER: ReadonlySet<string> = new Set([
  'starting',
  'restarting',
  'autorestarting',
  'unknown',
  'dead'
]);

/**
 * How often an incomplete search is asked again before giving up.
 */
const MAX_INCOMPLETE_RETRIES = 10;

/**
 * The state of the Environment Helper panel.
 */
export class EnvHelperModel implements IDisposable {
  constructor(options: EnvHelperModel.IOptions) {
    this._api = options.api;
    this._debounceMs = options.searchDebounceMs ?? 250;
    this._idleRefreshMs = options.idleRefreshMs ?? 2000;
    this._incompleteRetryMs = options.incompleteRetryMs ?? 3000;
  }

  /** Emitted after any change below. */
  get stateChanged(): ISignal<this, void> {
    return this._stateChanged;
  }

  /** Emitted when the followed kernel, its status or its environment change. */
  get environmentChanged(): ISignal<this, IEnvironmentState> {
    return this._environmentChanged;
  }

  /** Emitted when the search query, status or results change. */
  get searchChanged(): ISignal<this, ISearchState> {
    return this._searchChanged;
  }

  /** Emitted when the package details view opens, loads or closes. */
  get detailsChanged(): ISignal<this, IDetailsState | null> {
    return this._detailsChanged;
  }

  /** Emitted when the panel switches lists or the installed filter changes. */
  get viewChanged(): ISignal<this, void> {
    return this._viewChanged;
  }

  get kernel(): IKernelTarget | null {
    return this._kernel;
  }

  get environment(): IEnvironmentState {
    return this._environment;
  }

  get search(): ISearchState {
    return this._search;
  }

  get details(): IDetailsState | null {
    return this._details;
  }

  get view(): PanelView {
    return this._view;
  }

  set view(value: PanelView) {
    if (value !== this._view) {
      this._view = value;
      this._viewChanged.emit();
      this._stateChanged.emit();
    }
  }

  get installedFilter(): string {
    return this._installedFilter;
  }

  set installedFilter(value: string) {
    if (value !== this._installedFilter) {
      this._installedFilter = value;
      this._viewChanged.emit();
      this._stateChanged.emit();
    }
  }

  /**
   * The installed distributions that match the filter box.
   */
  get filteredDistributions(): IDistribution[] {
    return filterDistributions(
      this._environment.response?.environment?.distributions ?? [],
      this._installedFilter
    );
  }

  get source(): IKernelSource | null {
    return this._source;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Follow a notebook's or console's session context (or nothing).
   */
  setSource(source: IKernelSource | null): void {
    if (source === this._source) {
      return;
    }
    this._disconnectSource();
    this._source = source && !source.isDisposed ? source : null;
    if (this._source) {
      this._source.kernelChanged.connect(this._onKernelChanged, this);
      this._source.sessionChanged.connect(this._onKernelChanged, this);
      this._source.statusChanged.connect(this._onStatusChanged, this);
      this._source.disposed.connect(this._onSourceDisposed, this);
      if (!this._source.isReady) {
        const pending = this._source;
        void pending.ready
          .catch(() => undefined)
          .then(() => {
            if (this._source === pending && !this._kernel) {
              this._onKernelChanged();
            }
          });
      }
    }
    this._onKernelChanged();
  }

  /**
   * Read the followed kernel's environment again.
   *
   * @param quiet - keep showing the current environment while loading
   */
  refresh(quiet = false): Promise<void> {
    this._clearIdleTimer();
    this._environmentRequest?.abort();
    this._environmentRequest = null;
    const kernel = this._kernel;
    if (!kernel || (!kernel.kernelId && !kernel.specName)) {
      let status: EnvironmentStatus = 'empty';
      if (kernel || (this._source && !this._source.isReady)) {
        status = 'starting';
      } else if (this._source) {
        status = 'no-kernel';
      }
      this._setEnvironment({ status, response: null, error: null });
      return Promise.resolve();
    }
    const ref = refOf(kernel);
    const controller = new AbortController();
    this._environmentRequest = controller;
    const keep = quiet && this._environment.status === 'ready';
    if (!keep) {
      this._setEnvironment({ status: 'loading', response: null, error: null });
    }
    return this._api.environment(ref, controller.signal).then(
      response => {
        if (controller.signal.aborted || this._isDisposed) {
          return;
        }
        this._environmentRequest = null;
        this._setEnvironment({ status: 'ready', response, error: null });
      },
      (error: unknown) => {
        if (
          controller.signal.aborted ||
          this._isDisposed ||
          isAbortError(error)
        ) {
          return;
        }
        this._environmentRequest = null;
        if (keep && !isNotEnabled(error)) {
          // A background refresh failed: keep what the user sees.
          return;
        }
        this._setEnvironment({
          status: 'error',
          response: null,
          error: asAPIError(error)
        });
      }
    );
  }

  /**
   * Set the search query; the search runs once typing pauses.
   */
  setQuery(query: string): void {
    this._clearSearchTimer();
    this._incompleteRetries = 0;
    const trimmed = query.trim();
    if (!trimmed) {
      this._searchRequest?.abort();
      this._searchRequest = null;
      this._searchSeq++;
      this._setSearch({
        query,
        status: 'idle',
        resultQuery: '',
        hits: [],
        note: null,
        error: null
      });
      return;
    }
    this._setSearch({ ...this._search, query, status: 'pending' });
    this._searchTimer = setTimeout(() => {
      this._searchTimer = null;
      void this._runSearch(trimmed);
    }, this._debounceMs);
  }

  /**
   * Search now for the current query (Enter in the box, or a kernel change).
   */
  searchNow(): Promise<void> {
    this._clearSearchTimer();
    this._incompleteRetries = 0;
    const trimmed = this._search.query.trim();
    if (!trimmed) {
      return Promise.resolve();
    }
    return this._runSearch(trimmed);
  }

  /**
   * Show a package's details.
   */
  openDetails(name: string): Promise<void> {
    this._detailsRequest?.abort();
    const controller = new AbortController();
    this._detailsRequest = controller;
    this._setDetails({ name, status: 'loading', details: null, error: null });
    const ref = this._kernel ? refOf(this._kernel) : {};
    return this._api.packageDetails(name, ref, controller.signal).then(
      details => {
        if (controller.signal.aborted || this._isDisposed) {
          return;
        }
        this._detailsRequest = null;
        this._setDetails({ name, status: 'ready', details, error: null });
      },
      (error: unknown) => {
        if (
          controller.signal.aborted ||
          this._isDisposed ||
          isAbortError(error)
        ) {
          return;
        }
        this._detailsRequest = null;
        this._setDetails({
          name,
          status: 'error',
          details: null,
          error: asAPIError(error)
        });
      }
    );
  }

  /**
   * Go back from the details to the list.
   */
  closeDetails(): void {
    this._detailsRequest?.abort();
    this._detailsRequest = null;
    this._setDetails(null);
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._disconnectSource();
    this._source = null;
    this._clearSearchTimer();
    this._clearIdleTimer();
    this._environmentRequest?.abort();
    this._searchRequest?.abort();
    this._detailsRequest?.abort();
    Signal.clearData(this);
  }

  private _runSearch(query: string): Promise<void> {
    this._searchRequest?.abort();
    const controller = new AbortController();
    this._searchRequest = controller;
    const seq = ++this._searchSeq;
    this._setSearch({ ...this._search, status: 'loading', error: null });
    const ref = this._kernel ? refOf(this._kernel) : {};
    return this._api.search(query, ref, controller.signal).then(
      response => {
        if (seq !== this._searchSeq || this._isDisposed) {
          return; // superseded: a newer search owns the state
        }
        this._searchRequest = null;
        if (
          response.complete === false &&
          this._incompleteRetryMs > 0 &&
          this._incompleteRetries < MAX_INCOMPLETE_RETRIES
        ) {
          this._incompleteRetries++;
          // The server is still loading the index's project list: ask again
          // shortly, unless the user has typed something else by then.
          this._clearSearchTimer();
          this._searchTimer = setTimeout(() => {
            this._searchTimer = null;
            if (seq === this._searchSeq) {
              void this._runSearch(query);
            }
          }, this._incompleteRetryMs);
        }
        this._setSearch({
          ...this._search,
          status: 'ready',
          resultQuery: query,
          hits: response.hits,
          note: response.note ?? null,
          error: null
        });
      },
      (error: unknown) => {
        if (
          seq !== this._searchSeq ||
          this._isDisposed ||
          isAbortError(error)
        ) {
          return;
        }
        this._searchRequest = null;
        this._setSearch({
          ...this._search,
          status: 'error',
          resultQuery: query,
          hits: [],
          note: null,
          error: asAPIError(error)
        });
      }
    );
  }

  private _onKernelChanged(): void {
    const next = targetOf(this._source);
    const previous = this._kernel;
    this._kernel = next;
    const sameKernel =
      previous !== null &&
      next !== null &&
      previous.kernelId === next.kernelId &&
      previous.specName === next.specName;
    if (sameKernel) {
      if (previous.displayName !== next.displayName) {
        this._environmentChanged.emit(this._environment);
        this._stateChanged.emit();
      }
      return;
    }
    void this.refresh();
    if (!next) {
      return;
    }
    // Results depend on the kernel ("installed x.y", fit): ask again.
    if (this._search.query.trim()) {
      void this.searchNow();
    }
    if (this._details) {
      void this.openDetails(this._details.name);
    }
  }

  private _onStatusChanged(_: unknown, status: Kernel.Status): void {
    if (!this._kernel) {
      return;
    }
    const previous = this._kernel.status;
    this._kernel = { ...this._kernel, status };
    // The session may only now know its kernel id.
    const current = targetOf(this._source);
    if (
      current &&
      (current.kernelId !== this._kernel.kernelId ||
        current.specName !== this._kernel.specName)
    ) {
      this._onKernelChanged();
      return;
    }
    this._environmentChanged.emit(this._environment);
    this._stateChanged.emit();
    if (status !== 'idle' || previous === 'idle') {
      return;
    }
    if (REFRESH_AFTER.has(previous)) {
      // A (re)started kernel: its interpreter may differ now.
      void this.refresh(true);
    } else if (previous === 'busy' && this._idleRefreshMs > 0) {
      // A cell ran: it may have installed something. The server's cache
      // makes this cheap when nothing changed.
      this._clearIdleTimer();
      this._idleTimer = setTimeout(() => {
        this._idleTimer = null;
        void this.refresh(true);
      }, this._idleRefreshMs);
    }
  }

  private _disconnectSource(): void {
    if (this._source) {
      this._source.kernelChanged.disconnect(this._onKernelChanged, this);
      this._source.sessionChanged.disconnect(this._onKernelChanged, this);
      this._source.statusChanged.disconnect(this._onStatusChanged, this);
      this._source.disposed.disconnect(this._onSourceDisposed, this);
    }
  }

  private _onSourceDisposed(): void {
    this.setSource(null);
  }

  private _setEnvironment(state: IEnvironmentState): void {
    this._environment = state;
    this._environmentChanged.emit(state);
    this._stateChanged.emit();
  }

  private _setSearch(state: ISearchState): void {
    this._search = state;
    this._searchChanged.emit(state);
    this._stateChanged.emit();
  }

  private _setDetails(state: IDetailsState | null): void {
    this._details = state;
    this._detailsChanged.emit(state);
    this._stateChanged.emit();
  }

  private _clearSearchTimer(): void {
    if (this._searchTimer !== null) {
      clearTimeout(this._searchTimer);
      this._searchTimer = null;
    }
  }

  private _clearIdleTimer(): void {
    if (this._idleTimer !== null) {
      clearTimeout(this._idleTimer);
      this._idleTimer = null;
    }
  }

  private _api: IEnvHelperAPI;
  private _debounceMs: number;
  private _idleRefreshMs: number;
  private _incompleteRetryMs: number;
  private _incompleteRetries = 0;
  private _isDisposed = false;
  private _source: IKernelSource | null = null;
  private _kernel: IKernelTarget | null = null;
  private _environment: IEnvironmentState = {
    status: 'empty',
    response: null,
    error: null
  };
  private _search: ISearchState = {
    query: '',
    status: 'idle',
    resultQuery: '',
    hits: [],
    note: null,
    error: null
  };
  private _details: IDetailsState | null = null;
  private _view: PanelView = 'installed';
  private _installedFilter = '';
  private _environmentRequest: AbortController | null = null;
  private _searchRequest: AbortController | null = null;
  private _detailsRequest: AbortController | null = null;
  private _searchSeq = 0;
  private _searchTimer: ReturnType<typeof setTimeout> | null = null;
  private _idleTimer: ReturnType<typeof setTimeout> | null = null;
  private _environmentChanged = new Signal<this, IEnvironmentState>(this);
  private _searchChanged = new Signal<this, ISearchState>(this);
  private _detailsChanged = new Signal<this, IDetailsState | null>(this);
  private _viewChanged = new Signal<this, void>(this);
  private _stateChanged = new Signal<this, void>(this);
}

export namespace EnvHelperModel {
  export interface IOptions {
    api: IEnvHelperAPI;
    /** Pause in typing before a search runs (ms). */
    searchDebounceMs?: number;
    /** Delay of the quiet refresh after a cell ran (ms); 0 disables it. */
    idleRefreshMs?: number;
    /** Delay before asking again when results were incomplete (ms); 0 disables it. */
    incompleteRetryMs?: number;
  }
}

/**
 * The kernel a session context points at, or null when it has none.
 */
export function targetOf(source: IKernelSource | null): IKernelTarget | null {
  if (!source || source.isDisposed) {
    return null;
  }
  const kernel = source.session?.kernel ?? null;
  if (kernel) {
    return {
      displayName: source.kernelDisplayName,
      specName: kernel.name,
      kernelId: kernel.id,
      status: kernel.status
    };
  }
  if (source.hasNoKernel) {
    return null;
  }
  // A kernel is being started: only its spec is known.
  return {
    displayName: source.kernelDisplayName,
    specName: source.kernelPreference.name ?? null,
    kernelId: null,
    status: 'starting'
  };
}

/**
 * Installed distributions whose name (or summary) contains the filter text.
 * Name matches come first; `-`, `_` and `.` are treated alike.
 */
export function filterDistributions(
  distributions: readonly IDistribution[],
  filter: string
): IDistribution[] {
  const needle = normalizeName(filter.trim());
  const sorted = [...distributions].sort((a, b) =>
    normalizeName(a.name).localeCompare(normalizeName(b.name))
  );
  if (!needle) {
    return sorted;
  }
  const byName = sorted.filter(d => normalizeName(d.name).includes(needle));
  const bySummary = sorted.filter(
    d =>
      !normalizeName(d.name).includes(needle) &&
      (d.summary ?? '').toLowerCase().includes(filter.trim().toLowerCase())
  );
  return [...byName, ...bySummary];
}

/**
 * PEP 503 name normalization.
 */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

function refOf(kernel: IKernelTarget): IKernelRef {
  return { kernelId: kernel.kernelId, specName: kernel.specName };
}

function asAPIError(error: unknown): EnvHelperAPIError {
  if (error instanceof EnvHelperAPIError) {
    return error;
  }
  return new EnvHelperAPIError({
    kind: 'invalid-response',
    status: 0,
    message: error instanceof Error ? error.message : String(error)
  });
}

function isNotEnabled(error: unknown): boolean {
  return error instanceof EnvHelperAPIError && error.notEnabled;
}
