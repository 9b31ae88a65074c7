/**
 * The changes made to the followed kernel's environment, newest first, and
 * the jobs that undo one of them or uninstall a package. No DOM here.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import {
  IChangeAPI,
  IJob,
  IJobRequest,
  IKernelRef,
  IUndoPreviewResponse
} from './api';
import type { IKernelHost } from './plan';
import { EnvHelperAPIError, isAbortError, toAPIError } from './request';

export interface IHistoryState {
  status: 'idle' | 'loading' | 'ready' | 'error';
  jobs: IJob[];
  error: EnvHelperAPIError | null;
  /** What is being started: `undo:<job id>` or `uninstall:<name>`. */
  pending: string | null;
  /** Why the last undo or uninstall did not start. */
  actionError: EnvHelperAPIError | null;
  /** The undo being asked about: what it would change, before it runs. */
  preview?: IUndoPreviewState | null;
}

export interface IUndoPreviewState {
  jobId: string;
  status: 'loading' | 'ready' | 'error';
  response: IUndoPreviewResponse | null;
  error: EnvHelperAPIError | null;
}

/**
 * The History tab's state, and undo and uninstall.
 */
export class HistoryModel implements IDisposable {
  constructor(options: HistoryModel.IOptions) {
    this._api = options.api;
    this._host = options.host;
  }

  get changed(): ISignal<this, IHistoryState> {
    return this._changed;
  }

  get state(): IHistoryState {
    return this._state;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Read the history of the followed kernel's environment.
   *
   * @param quiet - keep the list on screen while loading
   */
  load(quiet = false): Promise<void> {
    this._request?.abort();
    const kernel = this._host.kernel;
    if (!kernel || (!kernel.kernelId && !kernel.specName)) {
      this._set({ ...this._state, status: 'idle', jobs: [], error: null });
      return Promise.resolve();
    }
    const controller = new AbortController();
    this._request = controller;
    const ref = refOf(this._host);
    this._loadedFor = keyOf(ref);
    if (!quiet || this._state.status !== 'ready') {
      this._set({ ...this._state, status: 'loading', error: null });
    }
    return this._api.history(ref, controller.signal).then(
      response => {
        if (controller.signal.aborted || this._isDisposed) {
          return;
        }
        this._request = null;
        this._set({
          ...this._state,
          status: 'ready',
          jobs: response.jobs,
          error: null
        });
      },
      (error: unknown) => {
        if (
          controller.signal.aborted ||
          this._isDisposed ||
          isAbortError(error)
        ) {
          return;
        }
        this._request = null;
        this._set({
          ...this._state,
          status: 'error',
          jobs: [],
          error: toAPIError(error)
        });
      }
    );
  }

  /**
   * Load again if the followed kernel is not the one the list is for.
   */
  loadIfKernelChanged(): Promise<void> {
    if (
      this._loadedFor !== null &&
      this._loadedFor !== keyOf(refOf(this._host))
    ) {
      return this.load();
    }
    return Promise.resolve();
  }

  /**
   * Ask what undoing job `jobId` would change; the view shows it with
   * "Confirm undo" (`undo`) and "Keep as it is" (`cancelUndo`).
   */
  async previewUndo(jobId: string): Promise<void> {
    const preview: IUndoPreviewState = {
      jobId,
      status: 'loading',
      response: null,
      error: null
    };
    this._set({ ...this._state, preview, actionError: null });
    if (!this._api.undoPreview) {
      this._set({ ...this._state, preview: { ...preview, status: 'ready' } });
      return;
    }
    try {
      const response = await this._api.undoPreview(refOf(this._host), jobId);
      if (this._state.preview?.jobId === jobId) {
        this._set({
          ...this._state,
          preview: { ...preview, status: 'ready', response }
        });
      }
    } catch (error) {
      if (this._state.preview?.jobId === jobId) {
        this._set({
          ...this._state,
          preview: { ...preview, status: 'error', error: toAPIError(error) }
        });
      }
    }
  }

  /** Do not undo after all. */
  cancelUndo(): void {
    if (this._state.preview) {
      this._set({ ...this._state, preview: null });
    }
  }

  /**
   * Start a job that undoes job `jobId`.
   */
  undo(jobId: string): Promise<IJob | null> {
    if (this._state.preview) {
      this._set({ ...this._state, preview: null });
    }
    return this._start(`undo:${jobId}`, {
      action: 'undo',
      // Job numbers go as numbers.
      job_id: /^\d+$/.test(jobId) ? Number(jobId) : jobId
    });
  }

  /**
   * Start a job that uninstalls `names`.
   */
  uninstall(names: string[]): Promise<IJob | null> {
    return this._start(`uninstall:${names.join(',')}`, {
      action: 'uninstall',
      names
    });
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._request?.abort();
    Signal.clearData(this);
  }

  private async _start(
    pending: string,
    request: IJobRequest
  ): Promise<IJob | null> {
    if (this._state.pending) {
      return null;
    }
    this._set({ ...this._state, pending, actionError: null });
    try {
      const { job } = await this._api.startJob(refOf(this._host), request);
      this._set({ ...this._state, pending: null });
      return job;
    } catch (error) {
      this._set({
        ...this._state,
        pending: null,
        actionError: toAPIError(error)
      });
      return null;
    }
  }

  private _set(state: IHistoryState): void {
    if (this._isDisposed) {
      return;
    }
    this._state = state;
    this._changed.emit(state);
  }

  private _api: IChangeAPI;
  private _host: IKernelHost;
  private _state: IHistoryState = {
    status: 'idle',
    jobs: [],
    error: null,
    pending: null,
    actionError: null
  };
  private _loadedFor: string | null = null;
  private _request: AbortController | null = null;
  private _isDisposed = false;
  private _changed = new Signal<this, IHistoryState>(this);
}

export namespace HistoryModel {
  export interface IOptions {
    api: IChangeAPI;
    host: IKernelHost;
  }
}

/**
 * The followed kernel as a request names it.
 */
export function refOf(host: IKernelHost): IKernelRef {
  const kernel = host.kernel;
  return kernel ? { kernelId: kernel.kernelId, specName: kernel.specName } : {};
}

function keyOf(ref: IKernelRef): string {
  return `${ref.kernelId ?? ''}|${ref.specName ?? ''}`;
}
