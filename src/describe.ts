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
  const machine = MACHINES[(platform.machine ?? '').toLowerCase()];
  return [platform.system, machine ?? platform.machine]
    .filter(Boolean)
    .join(', ');
}

/**
 * The platform in full (the C library too), for the one who asks: a title.
 */
export function platformDetail(platform: IEnvironment['platform']): string {
  const parts = [platform.system, platform.machine].filter(Boolean).join(' ');
  if (platform.libc) {
    return `${parts}, ${platform.libc.name} ${platform.libc.version}`;
  }
  return parts;
}

const MACHINES: Record<string, string> = {
  x86_64: '64-bit Intel/AMD',
  amd64: '64-bit Intel/AMD',
  aarch64: '64-bit ARM',
  arm64: '64-bit ARM'
};

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

/**
 * A short label for what a plan does to one distribution.
 */
export function actionLabel(kind: string, trans: Trans): string {
  switch (kind) {
    case 'install':
      return trans.__('install');
    case 'upgrade':
      return trans.__('upgrade');
    case 'downgrade':
      return trans.__('downgrade');
    case 'keep':
      return trans.__('keep');
    case 'remove':
      return trans.__('remove');
    default:
      return kind;
  }
}

/**
 * "2 to install, 1 upgrade, 1 downgrade" for the changes of a plan.
 */
export function changeSummary(
  actions: readonly { kind: string }[],
  trans: Trans
): string {
  const count = (kind: string) => actions.filter(a => a.kind === kind).length;
  const parts: string[] = [];
  const install = count('install');
  const upgrade = count('upgrade');
  const downgrade = count('downgrade');
  const remove = count('remove');
  if (install) {
    parts.push(trans._n('%1 to install', '%1 to install', install));
  }
  if (upgrade) {
    parts.push(trans._n('%1 upgrade', '%1 upgrades', upgrade));
  }
  if (downgrade) {
    parts.push(trans._n('%1 downgrade', '%1 downgrades', downgrade));
  }
  if (remove) {
    parts.push(trans._n('%1 to remove', '%1 to remove', remove));
  }
  if (parts.length === 0) {
    return trans.__('Nothing to change: everything asked for is installed.');
  }
  return parts.join(', ');
}

/**
 * A label for a finding's severity.
 */
export function severityLabel(severity: string, trans: Trans): string {
  switch (severity) {
    case 'info':
      return trans.__('Note');
    case 'warning':
      return trans.__('Warning');
    case 'blocker':
      return trans.__('Blocker');
    default:
      return severity;
  }
}

/**
 * What a kernel suggestion's rank means, when the server gave no message.
 */
export function suggestionRankLabel(rank: string, trans: Trans): string {
  switch (rank) {
    case 'satisfied':
      return trans.__('already has it');
    case 'no-changes':
      return trans.__('can take it without changing anything');
    case 'changes':
      return trans.__('can take it with changes');
    case 'impossible':
      return trans.__('cannot take it');
    default:
      return rank;
  }
}

/**
 * A label for a job's phase.
 */
export function phaseLabel(phase: string, trans: Trans): string {
  switch (phase) {
    case 'queued':
      return trans.__('Waiting for another change to finish');
    case 'resolving':
      return trans.__('Resolving');
    case 'downloading':
      return trans.__('Downloading');
    case 'building':
      return trans.__('Building from source');
    case 'installing':
      return trans.__('Installing');
    case 'uninstalling':
      return trans.__('Uninstalling');
    case 'verifying':
      return trans.__('Verifying');
    case 'done':
      return trans.__('Done');
    default:
      return phase;
  }
}

/**
 * What a job does, in a few words: "Installing pandas>=2".
 */
export function jobTitle(
  job: {
    kind: string;
    requirements: string[];
    names?: string[];
    undo_of?: number | string | null;
  },
  trans: Trans
): string {
  const what = (
    job.requirements?.length ? job.requirements : (job.names ?? [])
  ).join(', ');
  switch (job.kind) {
    case 'install':
      return trans.__('Install %1', what);
    case 'uninstall':
      return trans.__('Uninstall %1', what);
    case 'undo':
      if (what) {
        return trans.__('Undo (%1)', what);
      }
      return job.undo_of !== null && job.undo_of !== undefined
        ? trans.__('Undo of change #%1', job.undo_of)
        : trans.__('Undo');
    case 'create':
      return trans.__('New environment with %1', what);
    default:
      return `${job.kind} ${what}`.trim();
  }
}

/**
 * A label for a job's state.
 */
export function jobStateLabel(state: string, trans: Trans): string {
  switch (state) {
    case 'queued':
      return trans.__('queued');
    case 'running':
      return trans.__('running');
    case 'succeeded':
      return trans.__('succeeded');
    case 'failed':
      return trans.__('failed');
    case 'cancelled':
      return trans.__('cancelled');
    case 'interrupted':
      return trans.__('interrupted');
    default:
      return state;
  }
}

/**
 * "12.3 MB of 40.0 MB", "12.3 MB", or '' when nothing is known.
 */
export function bytesProgress(
  done: number | null,
  total: number | null,
  trans: Trans
): string {
  if (done !== null && done !== undefined && total) {
    return trans.__('%1 of %2', formatBytes(done), formatBytes(total));
  }
  if (done !== null && done !== undefined) {
    return formatBytes(done);
  }
  return '';
}

/**
 * "2 of 5 files", or '' when the step counts no files.
 */
export function filesProgress(
  done: number | null | undefined,
  total: number | null | undefined,
  trans: Trans
): string {
  if (done === null || done === undefined || !total) {
    return '';
  }
  return trans._n('%2 of %1 file', '%2 of %1 files', total, done);
}

/**
 * How long a phase has run, for a clock that moves: "8 s", "2 min 05 s".
 */
export function elapsedWords(seconds: number, trans: Trans): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) {
    return trans.__('%1 s', s);
  }
  const rest = String(s % 60).padStart(2, '0');
  return trans.__('%1 min %2 s', Math.floor(s / 60), rest);
}

/**
 * "numpy 1.26.4 → 2.0.1", "+ pandas 2.2.3", "− six 1.16.0".
 */
export function changeLine(change: {
  name: string;
  before: string | null;
  after: string | null;
}): string {
  if (change.before && change.after) {
    return `${change.name} ${change.before} → ${change.after}`;
  }
  if (change.after) {
    return `+ ${change.name} ${change.after}`;
  }
  if (change.before) {
    return `− ${change.name} ${change.before}`;
  }
  return change.name;
}

/**
 * A job time stamp (ISO string or epoch seconds) as local date and time.
 */
export function formatJobTime(time: string | number | null): string {
  if (time === null || time === undefined || time === '') {
    return '';
  }
  const date =
    typeof time === 'number' ? new Date(time * 1000) : new Date(time);
  if (isNaN(date.getTime())) {
    return String(time);
  }
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

/**
 * The first line of a finished job's outcome, said once: a cancelled job that
 * changed nothing says just that (not "Nothing was changed", an undo hint and
 * "Nothing changed" again).
 */
export function outcomeHeadline(
  job: { state: string },
  outcome: {
    message: string;
    changed: readonly unknown[];
  } | null,
  trans: Trans
): string {
  if (job.state === 'cancelled' && (outcome?.changed.length ?? 0) === 0) {
    return trans.__('Cancelled: nothing was changed.');
  }
  if (outcome?.message) {
    return outcome.message;
  }
  return job.state === 'succeeded'
    ? trans.__('Done.')
    : job.state === 'cancelled'
      ? trans.__('Cancelled.')
      : trans.__('The change failed.');
}

/**
 * Why the kernel should restart after a job, in the job's own terms: a
 * removal does not bring a "new version", an undo brings back the old ones.
 */
export function restartWords(
  job: { kind: string },
  outcome: {
    restart_modules: readonly string[];
    changed: readonly { after: string | null }[];
  },
  trans: Trans
): string {
  const modules = outcome.restart_modules.join(', ');
  if (!modules) {
    return trans.__('Restart the kernel to use the change.');
  }
  const removedOnly =
    outcome.changed.length > 0 && outcome.changed.every(c => !c.after);
  if (removedOnly) {
    return trans.__(
      'The kernel has already imported %1: restart it so that it stops using what was removed.',
      modules
    );
  }
  if (job.kind === 'undo') {
    return trans.__(
      'The kernel has already imported %1: restart it to use the versions from before.',
      modules
    );
  }
  return trans.__(
    'The kernel has already imported %1: restart it to use the new version.',
    modules
  );
}
