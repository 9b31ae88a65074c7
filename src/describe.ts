/**
 * Plain words for what the API returns: environment kinds, warnings, fit,
 * sizes and dates. Pure functions, so views stay thin and tests are cheap.
 */
import type { TranslationBundle } from '@jupyterlab/translation';

import {
  IEnvironment,
  IEnvironmentResponse,
  ITyposquat,
  IVulnerability,
  MatchKind,
  ProbeState
} from './api';
import { EnvHelperAPIError } from './request';

/**
 * The part of a translation bundle the views use.
 */
export type Trans = Pick<TranslationBundle, '__' | '_n'>;

/**
 * A warning shown under the environment header.
 */
export interface IPanelWarning {
  code: string;
  message: string;
}

/**
 * A readable name for an environment kind.
 */
export function kindLabel(kind: string, trans: Trans): string {
  switch (kind) {
    case 'venv':
      return trans.__('virtual environment (venv)');
    case 'uv':
      return trans.__('virtual environment (uv)');
    case 'virtualenv':
      return trans.__('virtual environment (virtualenv)');
    case 'conda':
      return trans.__('conda environment');
    case 'system':
      return trans.__('system Python');
    default:
      return kind;
  }
}

/**
 * The warnings for an environment, each said once.
 *
 * The server's own warnings come first; the externally-managed, not-writable
 * and interpreter-mismatch facts are added when the server did not already
 * word them.
 */
export function environmentWarnings(
  response: IEnvironmentResponse,
  trans: Trans
): IPanelWarning[] {
  const warnings: IPanelWarning[] = [];
  const env = response.environment;
  const has = (code: string) =>
    warnings.some(
      w => w.code === code || w.code.replace(/_/g, '-').includes(code)
    );
  for (const w of env?.warnings ?? []) {
    if (w.message && !warnings.some(o => o.message === w.message)) {
      warnings.push({ code: w.code, message: w.message });
    }
  }
  const mismatch = mismatchMessage(response, trans);
  if (
    mismatch &&
    !has('mismatch') &&
    !warnings.some(w => w.message === mismatch)
  ) {
    warnings.push({ code: 'interpreter-mismatch', message: mismatch });
  }
  if (env?.externally_managed && !has('externally-managed')) {
    warnings.push({
      code: 'externally-managed',
      message: env.externally_managed.message
        ? trans.__(
            'This environment is externally managed: %1',
            env.externally_managed.message
          )
        : trans.__(
            'This environment is externally managed (PEP 668): its packages belong to the system package manager.'
          )
    });
  }
  if (env && !env.writable && !has('not-writable')) {
    warnings.push({
      code: 'not-writable',
      message: trans.__(
        'You cannot write to %1: installing here needs other permissions.',
        env.prefix
      )
    });
  }
  return warnings;
}

/**
 * "The kernelspec points at X but the running kernel uses Y", or null.
 */
export function mismatchMessage(
  response: IEnvironmentResponse,
  trans: Trans
): string | null {
  const kernel = response.kernel;
  if (kernel.mismatch) {
    return kernel.mismatch;
  }
  if (
    kernel.confirmed_by_kernel &&
    kernel.spec_interpreter &&
    kernel.interpreter &&
    kernel.spec_interpreter !== kernel.interpreter
  ) {
    return trans.__(
      'The kernelspec points at %1 but the running kernel uses %2',
      kernel.spec_interpreter,
      kernel.interpreter
    );
  }
  return null;
}

/**
 * The headline for a kernel whose environment could not be read.
 */
export function probeStateMessage(
  state: ProbeState | string,
  language: string,
  trans: Trans
): string {
  switch (state) {
    case 'not-python':
      return trans.__(
        'This kernel runs %1, not Python: there is no Python environment to show.',
        language || trans.__('another language')
      );
    case 'no-interpreter':
      return trans.__("This kernel's Python interpreter could not be found.");
    case 'probe-failed':
      return trans.__("This kernel's environment could not be read.");
    default:
      return '';
  }
}

/**
 * What to tell the user about a failed request.
 */
export function errorMessage(error: EnvHelperAPIError, trans: Trans): string {
  if (error.notEnabled) {
    return trans.__(
      'The jupyter_envhelper server extension is not enabled. Enable it with "jupyter server extension enable jupyter_envhelper" and restart the server.'
    );
  }
  return error.message;
}

/**
 * The platform in a few words: "Linux x86_64, glibc 2.36".
 */
export function platformLabel(platform: IEnvironment['platform']): string {
  const parts = [platform.system, platform.machine].filter(Boolean).join(' ');
  if (platform.libc) {
    return `${parts}, ${platform.libc.name} ${platform.libc.version}`;
  }
  return parts;
}

/**
 * A short label for how a search hit matched the query.
 */
export function matchLabel(match: MatchKind | string, trans: Trans): string {
  switch (match) {
    case 'exact':
      return trans.__('exact name');
    case 'normalized':
      return trans.__('same name');
    case 'import-name':
      return trans.__('import name');
    case 'prefix':
      return trans.__('name starts with');
    case 'fuzzy':
      return trans.__('similar name');
    case 'purpose':
      return trans.__('by purpose');
    default:
      return match;
  }
}

/**
 * A short label for whether a version or file fits the kernel.
 */
export function fitLabel(fit: string, trans: Trans): string {
  switch (fit) {
    case 'compatible':
      return trans.__('fits');
    case 'needs-build':
      return trans.__('needs a build');
    case 'incompatible':
      return trans.__('does not fit');
    default:
      return fit;
  }
}

/**
 * What is known about vulnerabilities: null means the index publishes none,
 * which is "unknown", never "none known".
 */
export function vulnerabilitySummary(
  vulnerabilities: IVulnerability[] | null,
  trans: Trans
): string {
  if (vulnerabilities === null) {
    return trans.__(
      'Unknown: the package index publishes no vulnerability data for this package.'
    );
  }
  if (vulnerabilities.length === 0) {
    return trans.__('None known to the package index.');
  }
  return trans._n(
    '%1 known vulnerability',
    '%1 known vulnerabilities',
    vulnerabilities.length
  );
}

/**
 * A file size in B, kB, MB or GB (powers of 1000, like pip).
 */
export function formatBytes(size: number | null): string {
  if (size === null || size === undefined || !isFinite(size) || size < 0) {
    return '';
  }
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = size;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/**
 * The date part of an ISO time stamp ("2024-09-20"), or '' when absent.
 */
export function formatUploadTime(time: string | null): string {
  if (!time) {
    return '';
  }
  const match = /^(\d{4}-\d{2}-\d{2})/.exec(time);
  return match ? match[1] : time;
}

/**
 * The server's typosquat message without a closing "Did you mean X?", which
 * the view already shows as a link.
 */
export function typosquatDetail(typosquat: ITyposquat): string {
  const question = `Did you mean ${typosquat.suggestion}?`;
  const message = typosquat.message.trim();
  if (message.endsWith(question)) {
    return message.slice(0, -question.length).trim();
  }
  return message;
}
