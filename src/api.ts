/**
 * Typed wrappers over the envhelper REST API.
 *
 * Interface keys mirror the Python JSON payloads (snake_case on purpose), so
 * a field can be grepped for on both sides.
 */
import { ServerConnection } from '@jupyterlab/services';

import { streamJobEvents } from './events';
import { requestAPI } from './request';

/**
 * The payload schema version this front end understands.
 */
export const SCHEMA_VERSION = 1;

/**
 * How a kernel's environment could be read.
 */
export type ProbeState =
  'ok' | 'not-python' | 'no-interpreter' | 'probe-failed';

export type EnvironmentKind = 'venv' | 'uv' | 'virtualenv' | 'conda' | 'system';

export interface IKernelSummary {
  python_version: string;
  implementation: string;
  kind: EnvironmentKind | string;
  prefix: string;
  executable: string;
  package_count: number;
  gpu: string;
  warnings: number;
}

export interface IKernelListEntry {
  name: string;
  display_name: string;
  language: string;
  interpreter: string | null;
  interpreter_source: string | null;
  state: ProbeState;
  reason: string | null;
  detail: string | null;
  summary: IKernelSummary | null;
  remote?: boolean;
}

export interface IKernelsResponse {
  schema: number;
  kernels: IKernelListEntry[];
}

export interface IKernelInfo {
  name: string;
  display_name: string;
  language: string;
  kernel_id: string | null;
  interpreter: string | null;
  interpreter_source: string | null;
  spec_interpreter: string | null;
  confirmed_by_kernel: boolean;
  mismatch: string | null;
  /** The kernel runs where this server cannot run its Python (a gateway's). */
  remote?: boolean;
}

export interface IDistribution {
  name: string;
  version: string;
  summary: string | null;
  installer: string | null;
  editable: boolean;
  requires_python: string | null;
  location: string;
}

export interface IEnvironmentWarning {
  code: string;
  message: string;
}

export interface IGpuInfo {
  summary: string;
  [key: string]: unknown;
}

export interface IEnvironment {
  executable: string;
  python_version: string;
  implementation: string;
  kind: EnvironmentKind | string;
  prefix: string;
  base_prefix: string;
  writable: boolean;
  externally_managed: null | { message: string };
  platform: {
    system: string;
    machine: string;
    libc: null | { name: string; version: string };
  };
  gpu: IGpuInfo;
  installers: Record<string, unknown>;
  /** The kernel's own pip/uv configuration in effect (indexes, find-links,
   * constraints), with ``summary`` in plain words. */
  installer_config?: { summary?: string } & Record<string, unknown>;
  warnings: IEnvironmentWarning[];
  package_count: number;
  distributions: IDistribution[];
  cached: boolean;
  elapsed_ms: number;
}

export interface IEnvironmentResponse {
  schema: number;
  kernel: IKernelInfo;
  state: ProbeState;
  reason: string | null;
  detail: string | null;
  environment: IEnvironment | null;
}

export type MatchKind =
  'exact' | 'normalized' | 'import-name' | 'prefix' | 'fuzzy' | 'purpose';

export interface ITyposquat {
  suggestion: string;
  message: string;
}

export interface ISearchHit {
  name: string;
  canonical_name: string;
  match: MatchKind | string;
  score: number;
  summary: string | null;
  version: string | null;
  /** Named `rank` in the design; the server sends `popularity_rank`. */
  rank?: number | null;
  installed_version: string | null;
  typosquat: ITyposquat | null;
  /** Why it matched, in words ("starts with 'req'"). */
  why?: string | null;
  popularity_rank?: number | null;
}

export interface ISearchResponse {
  schema: number;
  query: string;
  hits: ISearchHit[];
  /** False when the index could not be searched in full. */
  complete?: boolean;
  /** Something the user should know about these results. */
  note?: string | null;
}

export type Fit = 'compatible' | 'needs-build' | 'incompatible';

export interface IPackageFile {
  filename: string;
  size: number | null;
  kind: 'wheel' | 'sdist' | string;
  fit: Fit | string;
  reason: string | null;
}

export interface IPackageVersion {
  version: string;
  yanked: boolean;
  yanked_reason: string | null;
  requires_python: string | null;
  upload_time: string | null;
  prerelease: boolean;
  fit: Fit | string;
  reason: string | null;
  files: IPackageFile[];
}

export interface IVulnerability {
  id: string;
  summary: string;
  fixed_in: string[];
  link: string;
}

export interface IPackageDetails {
  schema: number;
  name: string;
  summary: string | null;
  license: string | null;
  links: Record<string, string>;
  latest: string | null;
  installed_version: string | null;
  fit: { version: string | null; message: string; status?: Fit | string };
  vulnerabilities: null | IVulnerability[];
  /** The version the vulnerabilities were looked up for. */
  vulnerabilities_for?: string | null;
  versions: IPackageVersion[];
  typosquat?: ITyposquat | null;
  warnings?: (string | { code?: string; message: string })[];
  /** GPU fit of the version described; null for projects without GPU builds. */
  gpu?: IPackageGpu | null;
}

/**
 * What the build on the index needs against what this machine has.
 */
export interface IPackageGpu {
  /** This machine, in one line ("NVIDIA driver 570.86, CUDA ≤ 12.8, ..."). */
  machine: string;
  verdict: 'ok' | 'info' | 'warning' | 'blocker' | string;
  message: string | null;
  recommended: {
    backend: string;
    requirement: string;
    index_url: string;
  } | null;
}

/**
 * Which kernel a request is about: a running kernel (preferred, its
 * interpreter is confirmed by the kernel itself) or a kernelspec name.
 */
export interface IKernelRef {
  kernelId?: string | null;
  specName?: string | null;
}

/**
 * The query parameters naming a kernel, `kernel_id` winning over `kernel`.
 */
export function kernelQuery(ref: IKernelRef): URLSearchParams {
  const params = new URLSearchParams();
  if (ref.kernelId) {
    params.set('kernel_id', ref.kernelId);
  } else if (ref.specName) {
    params.set('kernel', ref.specName);
  }
  return params;
}

export type ActionKind =
  'install' | 'upgrade' | 'downgrade' | 'keep' | 'remove';

export interface IPlanFile {
  filename: string;
  size: number | null;
  kind: 'wheel' | 'sdist' | string;
  needs_build: boolean;
  yanked: boolean;
  yanked_reason: string | null;
}

export interface IPlanAction {
  kind: ActionKind | string;
  name: string;
  canonical_name: string;
  version: string | null;
  installed_version: string | null;
  requested: boolean;
  extras: string[];
  required_by: string[];
  file: IPlanFile | null;
  dependencies: string[];
}

export interface IBreakage {
  name: string;
  version: string;
  requirement: string;
  conflicting_with: string;
  message: string;
}

export interface IPlanTarget {
  python_version: string;
  implementation: string;
  platform: string;
  executable: string | null;
  kernel: string | null;
  synthetic: boolean;
}

export interface IPlan {
  requirements: string[];
  target: IPlanTarget;
  actions: IPlanAction[];
  breaks: IBreakage[];
  download_size: number | null;
  index_urls: string[];
  warnings: string[];
  resolve_ms: number | null;
}

export interface IConflictCause {
  requirement: string;
  required_by: string | null;
  kind: string;
  detail: string | null;
}

export type FindingActionKind =
  'use-requirement' | 'switch-kernel' | 'restart-kernel';

/**
 * Something a finding or a way out offers as a button.
 */
export interface IFindingAction {
  kind: FindingActionKind | string;
  label: string;
  requirement?: string;
  kernel?: string;
  [key: string]: unknown;
}

export interface IWayOut {
  kind: string;
  message: string;
  action: IFindingAction | null;
}

export interface IConflict {
  requirements: string[];
  target: IPlanTarget;
  causes: IConflictCause[];
  message: string;
  ways_out: IWayOut[];
}

export type Severity = 'info' | 'warning' | 'blocker';

export interface IFinding {
  check: string;
  severity: Severity | string;
  message: string;
  action: IFindingAction | null;
  details: Record<string, unknown>;
}

export type SuggestionRank =
  'satisfied' | 'no-changes' | 'changes' | 'impossible';

export interface IKernelSuggestion {
  name: string;
  display_name: string;
  python_version: string | null;
  rank: SuggestionRank | string;
  message: string;
  /** rank "new-environment": what a new environment would be made with. */
  new_environment?: {
    python_version: string;
    python: string | null;
    requirements: string[];
    name: string;
  };
}

export interface IPlanRequest {
  requirements: string[];
  allow_prereleases?: boolean;
  upgrade?: boolean;
  /**
   * Plan against one of PyTorch's backend indexes, by name (`cu126`, `cpu`),
   * as a GPU finding's action names it; the server maps it to the URL.
   */
  torch_backend?: string;
}

export interface IPlanResponse {
  schema: number;
  kernel: IKernelInfo;
  state: 'plan' | 'conflict';
  plan: IPlan | null;
  conflict: IConflict | null;
  findings: IFinding[];
  verdict: 'ok' | 'warning' | 'blocker' | string;
  suggestions: IKernelSuggestion[];
  fingerprint: string;
}

export interface IKernelSuggestionsResponse {
  schema: number;
  suggestions: IKernelSuggestion[];
}

export type JobKind = 'install' | 'uninstall' | 'undo';
export type JobState =
  'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';

export interface IJobProgress {
  phase: string;
  fraction: number | null;
  bytes_done: number | null;
  bytes_total: number | null;
  /** Files of the step fetched so far, of `files_total` (one per package). */
  files_done?: number | null;
  files_total?: number | null;
  /** When the current phase began (seconds since the epoch). */
  since?: number | null;
  package: string | null;
  message: string;
}

export interface IJobFailure {
  kind: string;
  message: string;
  way_out: string | null;
}

export interface IJobChange {
  name: string;
  /** installed, removed, upgraded, downgraded, ... */
  kind?: string;
  before: string | null;
  after: string | null;
}

export interface IJobOutcome {
  message: string;
  failure: IJobFailure | null;
  changed: IJobChange[];
  differences: string[];
  restart_needed: boolean;
  restart_modules: string[];
}

export interface IJob {
  /** A job number. */
  id: number | string;
  kind: JobKind | string;
  state: JobState | string;
  requirements: string[];
  created: string | number | null;
  started: string | number | null;
  finished: string | number | null;
  progress: IJobProgress | null;
  outcome: IJobOutcome | null;
  log_tail: string[];
  events: number;
  /** The job this one undoes. */
  undo_of?: number | string | null;
  names?: string[];
  /** The installer that runs the job (`uv`, `pip`, `conda`). */
  backend?: string | null;
}

export interface IJobResponse {
  schema: number;
  job: IJob;
}

export interface IHistoryResponse {
  schema: number;
  jobs: IJob[];
}

/**
 * The body of `POST envhelper/jobs` without the kernel.
 */
export interface IJobRequest {
  action: JobKind;
  requirements?: string[];
  names?: string[];
  job_id?: number | string;
  fingerprint?: string;
  /** The backend the plan was made with (see `IPlanRequest`). */
  torch_backend?: string;
}

/**
 * One event of `GET envhelper/jobs/<id>/events`: `progress` and `log` events
 * carry the fields of the job's progress (`log` ones a `line`) and count up
 * from 0; the last is a `state` event with index -1 and the whole `job`.
 */
export interface IJobEvent {
  index: number;
  type: 'progress' | 'log' | 'state' | string;
  [key: string]: unknown;
}

/**
 * Whether a job state is final.
 */
export function isFinished(state: string): boolean {
  return (
    state === 'succeeded' ||
    state === 'failed' ||
    state === 'cancelled' ||
    state === 'interrupted'
  );
}

/**
 * The kernel of a POST body: `kernel_id` winning over `kernel`.
 */
export function kernelBody(ref: IKernelRef): {
  kernel_id?: string;
  kernel?: string;
} {
  if (ref.kernelId) {
    return { kernel_id: ref.kernelId };
  }
  if (ref.specName) {
    return { kernel: ref.specName };
  }
  return {};
}

/**
 * The calls that plan and change an environment; the plan, job and history
 * models depend on this interface so tests can hand them a fake.
 */
export interface IChangeAPI {
  plan(
    ref: IKernelRef,
    request: IPlanRequest,
    signal?: AbortSignal
  ): Promise<IPlanResponse>;
  kernelSuggestions(
    ref: IKernelRef,
    requirements: string[],
    signal?: AbortSignal
  ): Promise<IKernelSuggestionsResponse>;
  startJob(ref: IKernelRef, request: IJobRequest): Promise<IJobResponse>;
  job(id: number | string, signal?: AbortSignal): Promise<IJobResponse>;
  cancelJob(id: number | string): Promise<IJobResponse>;
  history(ref: IKernelRef, signal?: AbortSignal): Promise<IHistoryResponse>;
  /** What undoing job `jobId` would change (optional: fakes may leave it out). */
  undoPreview?(
    ref: IKernelRef,
    jobId: string,
    signal?: AbortSignal
  ): Promise<IUndoPreviewResponse>;
  /** Whether `%envhelp` works in the kernel (optional: fakes may leave it out). */
  enableMagic?(
    ref: IKernelRef,
    signal?: AbortSignal
  ): Promise<IEnableMagicResponse>;
  /**
   * The job's events from index `since` on, as they happen; the iteration
   * ends when the job ends. Throws when the stream cannot be read.
   */
  jobEvents(
    id: number | string,
    since: number,
    signal?: AbortSignal
  ): AsyncIterable<IJobEvent>;
}

/**
 * The calls the panel makes; the model depends on this interface so tests
 * can hand it a fake.
 */
export interface IEnvHelperAPI {
  kernels(signal?: AbortSignal): Promise<IKernelsResponse>;
  environment(
    ref: IKernelRef,
    signal?: AbortSignal
  ): Promise<IEnvironmentResponse>;
  search(
    query: string,
    ref: IKernelRef,
    signal?: AbortSignal
  ): Promise<ISearchResponse>;
  packageDetails(
    name: string,
    ref: IKernelRef,
    signal?: AbortSignal
  ): Promise<IPackageDetails>;
}

/**
 * A distribution that provides a module (`GET envhelper/rescue`).
 */
export interface IRescueDistribution extends Partial<ISearchHit> {
  name: string;
  canonical_name: string;
  match: MatchKind | string;
  why?: string | null;
  summary: string | null;
  version: string | null;
  on_index?: boolean | null;
  [key: string]: unknown;
}

/**
 * A kernel that already has the module.
 */
export interface IKernelWithModule {
  name: string;
  display_name: string;
  python_version: string | null;
  distribution: string;
  version: string;
}

export type RescueVerdict = 'installed' | 'ok' | 'warning' | 'blocker';

/**
 * `GET envhelper/rescue`: after "No module named X", who provides X, whether
 * this kernel can take it, and which kernels already have it.
 */
export interface IRescueResponse {
  schema: number;
  module: string;
  kernel: IKernelInfo;
  distribution: IRescueDistribution | null;
  candidates: IRescueDistribution[];
  installed_here: { name: string; version: string }[];
  verdict: RescueVerdict | string | null;
  message: string | null;
  fingerprint: string | null;
  kernels_with_module: IKernelWithModule[];
  /** The plan's suggestions; the last may be a new environment (newenv.ts). */
  suggestions?: IKernelSuggestion[];
}

/**
 * The rescue call; the rescue model depends on this interface so tests can
 * hand it a fake.
 */
export interface IRescueAPI {
  rescue(
    module: string,
    ref: IKernelRef,
    signal?: AbortSignal
  ): Promise<IRescueResponse>;
}

/**
 * `GET envhelper/enable-magic`: whether `%envhelp` works in the kernel, and
 * the plan of its small kernel-side package when it does not. Installing is an
 * ordinary install job of `requirement`.
 */
export interface IEnableMagicResponse {
  schema: number;
  kernel: IKernelInfo;
  magic: {
    installed: boolean;
    distribution: string | null;
    version: string | null;
  };
  needed: boolean;
  requirement: string;
  version: string;
  startup: { prefix: string | null; path: string | null; enabled: boolean };
  plan: IPlanResponse['plan'] | null;
  verdict: string | null;
  fingerprint: string | null;
}

/**
 * `GET envhelper/undo-preview`: what undoing a job would change.
 */
export interface IUndoPreviewResponse {
  schema: number;
  job_id: number | string;
  plan: IPlan;
  /** What cannot be restored (the undo would refuse). */
  unavailable: string[];
  /** Changed since the job by something else. */
  drifted: string[];
}

/**
 * The package that gives a kernel `%envhelp` without JupyterLab
 * (`core/enable.py`), and the module the magic is loaded by.
 */
export const KERNEL_DISTRIBUTION = 'jupyter-envhelper-kernel';
export const MAGIC_MODULE = 'jupyter_envhelper';

/**
 * One distribution a notebook needs (`POST envhelper/needs`).
 */
export interface INeed {
  distribution: string;
  /** What to install: the recorded requirement, or the name. */
  requirement: string;
  source: 'import' | 'recorded' | string;
  modules: string[];
  /** The cells (from 1) that import it. */
  cells: number[];
  /** Only imported under `except ImportError`. */
  optional: boolean;
  state: 'missing' | 'present' | 'other-version' | string;
  installed_version: string | null;
}

/**
 * `POST envhelper/needs`: what a notebook needs that the kernel has, lacks
 * or has at another version.
 */
export interface INeedsResponse {
  schema: number;
  kernel: IKernelInfo;
  /** Whether the notebook records its dependencies (PEP 723 block). */
  recorded: boolean;
  needs: INeed[];
  /** What an install would ask for (optional imports excluded). */
  missing: string[];
  notes: string[];
  /** The PEP 723 block "Record this notebook's dependencies" writes. */
  record_block: string;
}

/**
 * A notebook cell, as much of nbformat as the needs are read from.
 */
export interface INotebookCellSource {
  cell_type: string;
  source: string | string[];
}

/**
 * The needs call; the needs model depends on this interface so tests can
 * hand it a fake.
 */
export interface INeedsAPI {
  needs(
    ref: IKernelRef,
    notebook: { cells: INotebookCellSource[] },
    signal?: AbortSignal
  ): Promise<INeedsResponse>;
}

/**
 * What `GET envhelper/export` writes: `requirements.txt` (pins with hashes),
 * `pylock.toml` (a PEP 751 lock) or `environment.yml` (conda environments
 * only).
 */
export type ExportFormat = 'requirements' | 'pylock' | 'environment-yml';

/**
 * The query of `GET envhelper/export` without the kernel.
 */
export interface IExportRequest {
  format: ExportFormat;
  /** Only what the user asked for, not its dependencies (not for pylock). */
  only_requested?: boolean;
}

/**
 * `GET envhelper/export`: the kernel's environment written down.
 */
export interface IExportResponse {
  schema: number;
  kernel: IKernelInfo;
  format: ExportFormat | string;
  /** The name to save it under (`pylock.toml`, ...). */
  filename: string;
  /** The file's text. */
  content: string;
  /** How many packages are pinned. */
  packages: number;
  /** What an index cannot reproduce (editable, direct-URL, local installs). */
  notes: string[];
}

/**
 * The export call; the exporter depends on this interface so tests can hand
 * it a fake.
 */
export interface IExportAPI {
  export(
    ref: IKernelRef,
    request: IExportRequest,
    signal?: AbortSignal
  ): Promise<IExportResponse>;
}

/**
 * The envhelper REST API over a Jupyter server connection.
 */
export class EnvHelperAPI
  implements IEnvHelperAPI, IChangeAPI, IRescueAPI, INeedsAPI, IExportAPI
{
  constructor(
    settings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {
    this._settings = settings;
  }

  kernels(signal?: AbortSignal): Promise<IKernelsResponse> {
    return this._get<IKernelsResponse>('kernels', undefined, signal);
  }

  environment(
    ref: IKernelRef,
    signal?: AbortSignal
  ): Promise<IEnvironmentResponse> {
    return this._get<IEnvironmentResponse>(
      'environment',
      kernelQuery(ref),
      signal
    );
  }

  search(
    query: string,
    ref: IKernelRef,
    signal?: AbortSignal
  ): Promise<ISearchResponse> {
    const params = kernelQuery(ref);
    params.set('q', query);
    return this._get<ISearchResponse>('search', params, signal);
  }

  packageDetails(
    name: string,
    ref: IKernelRef,
    signal?: AbortSignal
  ): Promise<IPackageDetails> {
    return this._get<IPackageDetails>(
      `packages/${encodeURIComponent(name)}`,
      kernelQuery(ref),
      signal
    );
  }

  plan(
    ref: IKernelRef,
    request: IPlanRequest,
    signal?: AbortSignal
  ): Promise<IPlanResponse> {
    return this._post<IPlanResponse>(
      'plan',
      { ...kernelBody(ref), ...request },
      signal
    );
  }

  kernelSuggestions(
    ref: IKernelRef,
    requirements: string[],
    signal?: AbortSignal
  ): Promise<IKernelSuggestionsResponse> {
    return this._post<IKernelSuggestionsResponse>(
      'kernel-suggestions',
      { ...kernelBody(ref), requirements },
      signal
    );
  }

  startJob(ref: IKernelRef, request: IJobRequest): Promise<IJobResponse> {
    return this._post<IJobResponse>('jobs', { ...kernelBody(ref), ...request });
  }

  job(id: number | string, signal?: AbortSignal): Promise<IJobResponse> {
    return this._get<IJobResponse>(
      `jobs/${encodeURIComponent(String(id))}`,
      undefined,
      signal
    );
  }

  cancelJob(id: number | string): Promise<IJobResponse> {
    return this._post<IJobResponse>(
      `jobs/${encodeURIComponent(String(id))}/cancel`,
      {}
    );
  }

  rescue(
    module: string,
    ref: IKernelRef,
    signal?: AbortSignal
  ): Promise<IRescueResponse> {
    const params = kernelQuery(ref);
    params.set('module', module);
    return this._get<IRescueResponse>('rescue', params, signal);
  }

  undoPreview(
    ref: IKernelRef,
    jobId: string,
    signal?: AbortSignal
  ): Promise<IUndoPreviewResponse> {
    const params = kernelQuery(ref);
    params.set('job_id', jobId);
    return this._get<IUndoPreviewResponse>('undo-preview', params, signal);
  }

  enableMagic(
    ref: IKernelRef,
    signal?: AbortSignal
  ): Promise<IEnableMagicResponse> {
    return this._get<IEnableMagicResponse>(
      'enable-magic',
      kernelQuery(ref),
      signal
    );
  }

  needs(
    ref: IKernelRef,
    notebook: { cells: INotebookCellSource[] },
    signal?: AbortSignal
  ): Promise<INeedsResponse> {
    return this._post<INeedsResponse>(
      'needs',
      { ...kernelBody(ref), notebook },
      signal
    );
  }

  export(
    ref: IKernelRef,
    request: IExportRequest,
    signal?: AbortSignal
  ): Promise<IExportResponse> {
    const params = kernelQuery(ref);
    params.set('format', request.format);
    params.set('only_requested', request.only_requested ? '1' : '0');
    return this._get<IExportResponse>('export', params, signal);
  }

  history(ref: IKernelRef, signal?: AbortSignal): Promise<IHistoryResponse> {
    return this._get<IHistoryResponse>('history', kernelQuery(ref), signal);
  }

  jobEvents(
    id: number | string,
    since: number,
    signal?: AbortSignal
  ): AsyncIterable<IJobEvent> {
    return streamJobEvents(String(id), since, this._settings, signal);
  }

  private _post<T>(
    path: string,
    body: unknown,
    signal?: AbortSignal
  ): Promise<T> {
    return requestAPI<T>(
      path,
      {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'Content-Type': 'application/json' },
        signal
      },
      this._settings
    );
  }

  private _get<T>(
    path: string,
    params?: URLSearchParams,
    signal?: AbortSignal
  ): Promise<T> {
    const query = params?.toString();
    return requestAPI<T>(
      query ? `${path}?${query}` : path,
      { method: 'GET', signal },
      this._settings
    );
  }

  private _settings: ServerConnection.ISettings;
}
