/**
 * Changing the followed kernel's environment: the open plan, the jobs that
 * run (the one the panel shows, and every one still followed so it can be
 * announced when the panel is closed), and the history. No DOM here.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { IChangeAPI, IJob, IKernelRef, IPlanRequest } from './api';
import { HistoryModel, refOf } from './history';
import { JobModel } from './job';
import { IKernelHost, PlanModel } from './plan';
import { EnvHelperAPIError, toAPIError } from './request';

/**
 * What the changes need from the panel's model.
 */
export interface IChangesHost extends IKernelHost {
  /** Read the kernel's environment again. */
  refresh(quiet?: boolean): Promise<void>;
}

/**
 * Restarting the kernel after a job that needs it.
 */
export interface IRestartState {
  jobId: string;
  status: 'restarting' | 'done' | 'error';
  error: EnvHelperAPIError | null;
}

/**
 * How many finished jobs stay followed.
 */
const KEEP_FINISHED = 20;

export class ChangesModel implements IDisposable {
  constructor(options: ChangesModel.IOptions) {
    this._api = options.api;
    this._host = options.host;
    this._pollMs = options.pollMs;
    this.plan = new PlanModel({ api: this._api, host: this._host });
    this.history = new HistoryModel({ api: this._api, host: this._host });
    this.plan.changed.connect(this._emit, this);
    this.history.changed.connect(this._emit, this);
    this._host.environmentChanged.connect(this._onHostChanged, this);
  }

  readonly plan: PlanModel;
  readonly history: HistoryModel;

  /** Emitted after any change of the plan, the shown job or the history. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted when a job starts being followed (to announce it). */
  get jobStarted(): ISignal<this, JobModel> {
    return this._jobStarted;
  }

  /** The job the panel shows, or null. */
  get job(): JobModel | null {
    return this._shown;
  }

  /** Every job followed, newest last. */
  get jobs(): readonly JobModel[] {
    return this._jobs;
  }

  get restart(): IRestartState | null {
    return this._restart;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Open the plan for installing `requirements` (and close a finished job).
   */
  openPlan(
    requirements: string[],
    options: Omit<IPlanRequest, 'requirements'> = {}
  ): Promise<void> {
    if (this._shown?.finished) {
      this._shown = null;
    }
    return this.plan.open(requirements, options);
  }

  /**
   * Install the open plan; the job replaces the plan in the panel.
   */
  async confirm(): Promise<JobModel | null> {
    const kernelName = this.plan.state?.kernelName ?? '';
    const ref = refOf(this._host);
    const job = await this.plan.confirm();
    if (!job) {
      return null;
    }
    this.plan.close();
    return this.follow(job, ref, kernelName);
  }

  /**
   * Undo a job from the history.
   */
  async undo(jobId: string): Promise<JobModel | null> {
    const ref = refOf(this._host);
    const job = await this.history.undo(jobId);
    return job ? this.follow(job, ref, this._host.kernel?.displayName) : null;
  }

  /**
   * Uninstall installed distributions.
   */
  async uninstall(names: string[]): Promise<JobModel | null> {
    const ref = refOf(this._host);
    const job = await this.history.uninstall(names);
    return job ? this.follow(job, ref, this._host.kernel?.displayName) : null;
  }

  /**
   * Follow a job the server started, and show it.
   */
  follow(job: IJob, ref: IKernelRef, kernelName = ''): JobModel {
    const existing = this._jobs.find(j => j.id === String(job.id));
    if (existing) {
      this.showJob(existing.id);
      return existing;
    }
    const model = new JobModel({
      api: this._api,
      job,
      ref,
      kernelName,
      pollMs: this._pollMs
    });
    this._jobs.push(model);
    model.changed.connect(this._onJobChanged, this);
    model.ended.connect(this._onJobEnded, this);
    this._shown = model;
    this._restart = null;
    this._jobStarted.emit(model);
    void model.start();
    this._emit();
    return model;
  }

  /**
   * Show a followed job (the notification's "Show details").
   */
  showJob(id: string): boolean {
    const job = this._jobs.find(j => j.id === id) ?? null;
    if (job) {
      this._shown = job;
      this._emit();
    }
    return job !== null;
  }

  /**
   * Stop showing the job (it keeps running and being followed).
   */
  closeJob(): void {
    this._shown = null;
    this._restart = null;
    this._emit();
  }

  /**
   * Whether the notebook the panel follows runs the kernel a job changed.
   */
  followsKernelOf(job: JobModel): boolean {
    const kernel = this._host.kernel;
    if (!kernel || !this._host.source) {
      return false;
    }
    if (job.ref.kernelId) {
      return job.ref.kernelId === kernel.kernelId;
    }
    return !!job.ref.specName && job.ref.specName === kernel.specName;
  }

  /**
   * Restart the notebook's kernel so a finished job's changes are imported.
   */
  async restartKernelFor(job: JobModel): Promise<void> {
    const source = this._host.source;
    if (!source || !this.followsKernelOf(job)) {
      return;
    }
    this._restart = { jobId: job.id, status: 'restarting', error: null };
    this._emit();
    try {
      await source.restartKernel();
      this._restart = { jobId: job.id, status: 'done', error: null };
    } catch (error) {
      this._restart = {
        jobId: job.id,
        status: 'error',
        error: toAPIError(error)
      };
    }
    this._emit();
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._host.environmentChanged.disconnect(this._onHostChanged, this);
    this.plan.dispose();
    this.history.dispose();
    for (const job of this._jobs) {
      job.dispose();
    }
    this._jobs = [];
    Signal.clearData(this);
  }

  private _onHostChanged(): void {
    void this.history.loadIfKernelChanged();
    // The panel follows the active kernel: another kernel's job text is stale.
    const shown = this._shown;
    const kernel = this._host.kernel;
    if (shown && kernel && kernel.kernelId && !this.followsKernelOf(shown)) {
      this._shown = null;
      this._emit();
    }
  }

  private _onJobChanged(job: JobModel): void {
    if (job === this._shown) {
      this._emit();
    }
  }

  private _onJobEnded(): void {
    // What the job changed shows in the installed list and the history.
    void this._host.refresh(true);
    if (this.history.state.status !== 'idle') {
      void this.history.load(true);
    }
    // Keep the latest finished jobs ("Show details" of a notification).
    const finished = this._jobs.filter(j => j.finished && j !== this._shown);
    const excess = finished.slice(
      0,
      Math.max(0, finished.length - KEEP_FINISHED)
    );
    for (const j of excess) {
      j.dispose();
    }
    this._jobs = this._jobs.filter(j => !excess.includes(j));
    this._emit();
  }

  private _emit(): void {
    if (!this._isDisposed) {
      this._changed.emit();
    }
  }

  private _api: IChangeAPI;
  private _host: IChangesHost;
  private _pollMs: number | undefined;
  private _jobs: JobModel[] = [];
  private _shown: JobModel | null = null;
  private _restart: IRestartState | null = null;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
  private _jobStarted = new Signal<this, JobModel>(this);
}

export namespace ChangesModel {
  export interface IOptions {
    api: IChangeAPI;
    host: IChangesHost;
    /** Polling interval of jobs when their stream is not available (ms). */
    pollMs?: number;
  }
}
