/**
 * Typed wrappers over the envhelper REST API.
 *
 * Interface keys mirror the Python JSON payloads (snake_case on purpose), so
 * a field can be grepped for on both sides.
 */
import { ServerConnection } from '@jupyterlab/services';

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
 * The envhelper REST API over a Jupyter server connection.
 */
export class EnvHelperAPI implements IEnvHelperAPI {
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
