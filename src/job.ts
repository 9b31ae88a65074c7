/**
 * One install, uninstall or undo job as it runs on the server: its state,
 * progress and log, kept current from the job's event stream, or by polling
 * when the stream cannot be read. No DOM here.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import {
  IChangeAPI,
  IJob,
  IJobEvent,
  IJobOutcome,
  IJobProgress,
  IKernelRef,
  isFinished
} from './api';
import { EnvHelperAPIError, isAbortError, toAPIError } from './request';

/**
 * How the model hears about the job.
 */
export type JobConnection = 'idle' | 'streaming' | 'polling' | 'done';

/**
 * How many log lines are kept.
 */
export const MAX_LOG_LINES = 2000;

/**
 * A job, followed until it ends.
 */
export class JobModel implements IDisposable {
  constructor(options: JobModel.IOptions) {
    this._api = options.api;
    this._job = options.job;
    this._ref = options.ref ?? {};
    this._kernelName = options.kernelName ?? '';
    this._pollMs = options.pollMs ?? 1000;
    this._log = [...(options.job.log_tail ?? [])];
    this._cursor = options.job.events ?? 0;
  }

  /** Emitted on every change of the job, its log or the connection. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted once, when the job has ended (with its outcome when known). */
  get ended(): ISignal<this, IJob> {
    return this._ended;
  }

  get id(): string {
    return String(this._job.id);
  }

  get job(): IJob {
    return this._job;
  }

  /** The kernel the job changes. */
  get ref(): IKernelRef {
    return this._ref;
  }

  /** The display name of the kernel the job changes. */
  get kernelName(): string {
    return this._kernelName;
  }

  get log(): readonly string[] {
    return this._log;
  }

  get connection(): JobConnection {
    return this._connection;
  }

  get finished(): boolean {
    return isFinished(this._job.state);
  }

  get outcome(): IJobOutcome | null {
    return this._job.outcome;
  }

  /** Whether a cancel was asked for and the job has not ended yet. */
  get cancelling(): boolean {
    return this._cancelling && !this.finished;
  }

  /** The last error talking to the server (the job itself may be fine). */
  get error(): EnvHelperAPIError | null {
    return this._error;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Follow the job until it ends: the event stream first, polling when the
   * stream fails or ends early.
   */
  start(): Promise<void> {
    if (!this._following) {
      this._following = this._follow();
    }
    return this._following;
  }

  /**
   * Ask the server to cancel the job.
   */
  async cancel(): Promise<void> {
    if (this.finished || this._cancelling) {
      return;
    }
    this._cancelling = true;
    this._changed.emit();
    try {
      const { job } = await this._api.cancelJob(this._job.id);
      this._setJob(job);
    } catch (error) {
      this._cancelling = false;
      this._error = toAPIError(error);
      this._changed.emit();
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._controller.abort();
    this._clearWait?.();
    Signal.clearData(this);
  }

  private async _follow(): Promise<void> {
    if (!this.finished) {
      await this._stream();
    }
    if (this._isDisposed) {
      return;
    }
    // The stream ended or failed: the job's own record has the outcome.
    await this._poll();
  }

  private async _stream(): Promise<void> {
    this._setConnection('streaming');
    try {
      for await (const event of this._api.jobEvents(
        this._job.id,
        this._cursor,
        this._controller.signal
      )) {
        if (this._isDisposed) {
          return;
        }
        this._apply(event);
        if (this.finished && this._job.outcome) {
          break;
        }
      }
    } catch (error) {
      if (this._isDisposed || isAbortError(error)) {
        return;
      }
      // Fall back to polling.
    }
  }

  private async _poll(): Promise<void> {
    for (;;) {
      if (this._isDisposed) {
        return;
      }
      if (this._connection !== 'polling' && !this.finished) {
        this._setConnection('polling');
      }
      try {
        const { job } = await this._api.job(
          this._job.id,
          this._controller.signal
        );
        if (this._isDisposed) {
          return;
        }
        this._error = null;
        this._setJob(job, true);
      } catch (error) {
        if (this._isDisposed || isAbortError(error)) {
          return;
        }
        this._error = toAPIError(error);
        this._changed.emit();
        if (this._error.status === 404) {
          // The server forgot the job (restarted): nothing more to learn.
          this._finish();
          return;
        }
      }
      if (this.finished) {
        this._finish();
        return;
      }
      await this._wait(this._pollMs);
    }
  }

  private _apply(event: IJobEvent): void {
    // The closing `state` event has no place in the sequence (index -1).
    const sequenced = event.type !== 'state' || event.index >= 0;
    if (sequenced) {
      if (event.index < this._cursor) {
        return; // already seen (the snapshot or an earlier connection)
      }
      this._cursor = event.index + 1;
    }
    const job = event.job as IJob | undefined;
    if (job && typeof job === 'object' && typeof job.state === 'string') {
      this._setJob(job, false, true);
    }
    switch (event.type) {
      case 'progress': {
        const previous = this._job.progress;
        const progress = progressOf(event, previous);
        this._job = { ...this._job, progress };
        const nested = event.progress;
        const hasFraction =
          'fraction' in event ||
          (!!nested && typeof nested === 'object' && 'fraction' in nested);
        if (!hasFraction && progress.phase !== (previous?.phase ?? '')) {
          // The server weighs the phases: ask it for the new fraction.
          void this._refreshFraction();
        }
        break;
      }
      case 'log':
        this._appendLog(logLinesOf(event));
        break;
      case 'state':
        if (typeof event.state === 'string') {
          this._job = { ...this._job, state: event.state };
        }
        if (event.outcome !== undefined) {
          this._job = {
            ...this._job,
            outcome: event.outcome as IJobOutcome | null
          };
        }
        break;
      default:
        break;
    }
    this._changed.emit();
    if (this.finished && this._job.outcome) {
      this._finish();
    }
  }

  /**
   * Take the fraction done from the job's record (the stream's events do
   * not carry it).
   */
  private async _refreshFraction(): Promise<void> {
    let job: IJob;
    try {
      job = (await this._api.job(this._job.id, this._controller.signal)).job;
    } catch {
      return;
    }
    const progress = this._job.progress;
    if (
      this._isDisposed ||
      this.finished ||
      !progress ||
      !job.progress ||
      job.progress.phase !== progress.phase
    ) {
      return;
    }
    this._job = {
      ...this._job,
      progress: { ...progress, fraction: job.progress.fraction }
    };
    this._changed.emit();
  }

  private _setJob(job: IJob, fromPoll = false, quiet = false): void {
    const { log_tail: tail } = job;
    this._job = { ...job };
    if (fromPoll && tail && tail.length > 0) {
      this._mergeTail(tail);
    }
    if (!quiet) {
      this._changed.emit();
    }
  }

  /**
   * Add the lines of a polled `log_tail` the log does not end with yet.
   */
  private _mergeTail(tail: string[]): void {
    const log = this._log;
    // The longest suffix of the log that is a prefix of the tail.
    let overlap = Math.min(tail.length, log.length);
    for (; overlap > 0; overlap--) {
      let same = true;
      for (let i = 0; i < overlap; i++) {
        if (log[log.length - overlap + i] !== tail[i]) {
          same = false;
          break;
        }
      }
      if (same) {
        break;
      }
    }
    this._appendLog(tail.slice(overlap));
  }

  private _appendLog(lines: string[]): void {
    if (lines.length === 0) {
      return;
    }
    this._log.push(...lines);
    if (this._log.length > MAX_LOG_LINES) {
      this._log.splice(0, this._log.length - MAX_LOG_LINES);
    }
  }

  private _finish(): void {
    if (this._endedEmitted) {
      return;
    }
    this._endedEmitted = true;
    this._cancelling = false;
    this._setConnection('done');
    this._ended.emit(this._job);
  }

  private _setConnection(connection: JobConnection): void {
    if (connection !== this._connection) {
      this._connection = connection;
      this._changed.emit();
    }
  }

  private _wait(ms: number): Promise<void> {
    return new Promise(resolve => {
      const timer = setTimeout(() => {
        this._clearWait = null;
        resolve();
      }, ms);
      this._clearWait = () => {
        clearTimeout(timer);
        this._clearWait = null;
        resolve();
      };
    });
  }

  private _api: IChangeAPI;
  private _job: IJob;
  private _ref: IKernelRef;
  private _kernelName: string;
  private _pollMs: number;
  private _log: string[];
  private _cursor: number;
  private _connection: JobConnection = 'idle';
  private _cancelling = false;
  private _error: EnvHelperAPIError | null = null;
  private _following: Promise<void> | null = null;
  private _endedEmitted = false;
  private _isDisposed = false;
  private _controller = new AbortController();
  private _clearWait: (() => void) | null = null;
  private _changed = new Signal<this, void>(this);
  private _ended = new Signal<this, IJob>(this);
}

export namespace JobModel {
  export interface IOptions {
    api: IChangeAPI;
    /** The job as the server last described it (the 202 answer, say). */
    job: IJob;
    ref?: IKernelRef;
    kernelName?: string;
    /** Polling interval when the stream is not available (ms). */
    pollMs?: number;
  }
}

/**
 * The progress an event carries: `{progress: {...}}` or the fields inline.
 */
export function progressOf(
  event: IJobEvent,
  previous: IJobProgress | null
): IJobProgress {
  const source = (
    event.progress && typeof event.progress === 'object'
      ? event.progress
      : event
  ) as Partial<IJobProgress>;
  const base: IJobProgress = previous ?? {
    phase: '',
    fraction: null,
    bytes_done: null,
    bytes_total: null,
    files_done: null,
    files_total: null,
    since: null,
    package: null,
    message: ''
  };
  return {
    phase: source.phase ?? base.phase,
    fraction:
      source.fraction !== undefined
        ? source.fraction
        : (source.phase ?? base.phase) === base.phase
          ? base.fraction
          : null,
    bytes_done:
      source.bytes_done !== undefined ? source.bytes_done : base.bytes_done,
    bytes_total:
      source.bytes_total !== undefined ? source.bytes_total : base.bytes_total,
    files_done:
      source.files_done !== undefined ? source.files_done : base.files_done,
    files_total:
      source.files_total !== undefined ? source.files_total : base.files_total,
    since: source.since !== undefined ? source.since : base.since,
    package: source.package !== undefined ? source.package : base.package,
    message: source.message ?? base.message
  };
}

/**
 * The log lines a `log` event carries.
 */
export function logLinesOf(event: IJobEvent): string[] {
  if (Array.isArray(event.lines)) {
    return event.lines.map(String);
  }
  for (const key of ['line', 'text', 'message']) {
    const value = event[key];
    if (typeof value === 'string') {
      return value
        .split(/\r?\n/)
        .filter((l, i, all) => l || i < all.length - 1);
    }
  }
  return [];
}
