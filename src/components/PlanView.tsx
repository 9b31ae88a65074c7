import * as React from 'react';

import {
  IConflict,
  IFinding,
  IFindingAction,
  IKernelSuggestion,
  IPlan,
  IPlanAction
} from '../api';
import {
  Trans,
  actionLabel,
  changeSummary,
  errorMessage,
  formatBytes,
  severityLabel,
  suggestionRankLabel
} from '../describe';
import { IPlanState } from '../plan';

export interface IPlanViewProps {
  state: IPlanState;
  canInstall: boolean;
  /** The kernelspec the notebook runs now (no Switch button for it). */
  currentKernel: string | null;
  trans: Trans;
  onInstall: () => void;
  onClose: () => void;
  onReplan: () => void;
  onAction: (action: IFindingAction) => void;
}

/**
 * What installing would do, with the advice on it, before anything changes.
 */
export function PlanView(props: IPlanViewProps): JSX.Element {
  const { state, trans } = props;
  const response = state.response;
  const blockers = response?.findings.filter(f => f.severity === 'blocker');
  // What can stop the install or cost a lot (a blocker, GPU fit, gigabytes,
  // JupyterLab's own environment) is read before the list of packages.
  const gpuFindings = response?.findings.filter(f => f.check === 'gpu') ?? [];
  const topFindings =
    response?.findings.filter(f => f.check !== 'gpu' && isTopFinding(f)) ?? [];
  const otherFindings =
    response?.findings.filter(f => f.check !== 'gpu' && !isTopFinding(f)) ?? [];
  const detail = response?.plan ? installDetail(response.plan, trans) : null;
  const busy = state.busy !== null || state.status === 'loading';
  let installTitle: string | undefined;
  if (blockers && blockers.length > 0) {
    installTitle = trans.__(
      'Cannot install: %1',
      blockers.map(b => b.message).join(' ')
    );
  } else if (response?.state === 'conflict') {
    installTitle = trans.__('Cannot install: the request conflicts.');
  }
  return (
    <div className="jp-EnvHelper-plan" aria-busy={busy}>
      <button
        className="jp-mod-styled jp-EnvHelper-back"
        onClick={props.onClose}
        aria-label={trans.__('Back to the list')}
      >
        {'← ' + trans.__('Back')}
      </button>
      <h2 className="jp-EnvHelper-detailsName">
        {trans.__('Install %1', state.requirements.join(', '))}
      </h2>
      <div
        className="jp-EnvHelper-planTarget"
        title={
          (state.response?.plan?.target ?? state.response?.conflict?.target)
            ?.platform
        }
      >
        {planTarget(state, trans)}
      </div>
      {state.note && (
        <div className="jp-EnvHelper-note" role="status">
          {trans.__(
            'The environment changed since this plan was made. This is the plan for it now: check it and install again.'
          )}
        </div>
      )}
      {state.busy === 'switching' && (
        <div className="jp-EnvHelper-message jp-EnvHelper-loading">
          {trans.__("Switching the notebook's kernel…")}
        </div>
      )}
      {state.busy === 'restarting' && (
        <div className="jp-EnvHelper-message jp-EnvHelper-loading">
          {trans.__('Restarting the kernel…')}
        </div>
      )}
      {state.actionError && (
        <div className="jp-EnvHelper-error" role="alert">
          {errorMessage(state.actionError, trans)}
        </div>
      )}
      {state.status === 'loading' && (
        <div className="jp-EnvHelper-message jp-EnvHelper-loading">
          {trans.__('Working out what would change…')}
        </div>
      )}
      {state.status === 'error' && state.error && (
        <>
          <div className="jp-EnvHelper-error" role="alert">
            {errorMessage(state.error, trans)}
          </div>
          <button
            className="jp-mod-styled jp-EnvHelper-retry"
            onClick={props.onReplan}
          >
            {trans.__('Try again')}
          </button>
        </>
      )}
      {state.status === 'ready' && response && (
        <>
          {response.conflict && (
            <ConflictView
              conflict={response.conflict}
              trans={trans}
              disabled={busy}
              onAction={props.onAction}
            />
          )}
          {topFindings.length > 0 && (
            <FindingList
              findings={topFindings}
              label={trans.__('Read this first')}
              trans={trans}
              disabled={busy}
              onAction={props.onAction}
            />
          )}
          {gpuFindings.length > 0 && (
            // GPU fit decides which build to get: above the list of packages
            <FindingList
              findings={gpuFindings}
              label={trans.__('GPU')}
              trans={trans}
              disabled={busy}
              onAction={props.onAction}
            />
          )}
          {response.plan && <PlanBody plan={response.plan} trans={trans} />}
          {otherFindings.length > 0 && (
            <FindingList
              findings={otherFindings}
              trans={trans}
              disabled={busy}
              onAction={props.onAction}
            />
          )}
          {response.suggestions.length > 0 && (
            <SuggestionList
              suggestions={response.suggestions}
              currentKernel={props.currentKernel}
              trans={trans}
              disabled={busy}
              onSwitch={name =>
                props.onAction({
                  kind: 'switch-kernel',
                  kernel: name,
                  label: trans.__('Switch')
                })
              }
              onNewEnvironment={s =>
                props.onAction({
                  ...s.new_environment,
                  kind: 'new-environment',
                  label: trans.__('Create a new environment')
                })
              }
            />
          )}
          <div className="jp-EnvHelper-planButtons">
            <button
              className="jp-mod-styled jp-mod-accept jp-EnvHelper-install"
              disabled={!props.canInstall || detail === ''}
              title={
                installTitle ??
                (detail ? trans.__('Install %1', detail) : undefined)
              }
              aria-describedby={
                installTitle ? 'jp-EnvHelper-installWhy' : undefined
              }
              onClick={props.onInstall}
            >
              {state.busy === 'starting' ? (
                trans.__('Starting…')
              ) : detail === '' ? (
                trans.__('Nothing to change')
              ) : (
                <>
                  {trans.__('Install')}
                  {detail && (
                    // the accessible name stays "Install"; the detail is its description
                    <span
                      className="jp-EnvHelper-installDetail"
                      aria-hidden="true"
                    >
                      {' ' + detail}
                    </span>
                  )}
                </>
              )}
            </button>
            <button
              className="jp-mod-styled jp-mod-reject"
              onClick={props.onClose}
            >
              {trans.__('Cancel')}
            </button>
          </div>
          {installTitle && (
            <div
              id="jp-EnvHelper-installWhy"
              className="jp-EnvHelper-muted jp-EnvHelper-installWhy"
            >
              {installTitle}
            </div>
          )}
        </>
      )}
    </div>
  );
}

/**
 * Findings shown above the package list: blockers, gigabytes, the server's
 * own environment.
 */
export function isTopFinding(f: IFinding): boolean {
  return (
    f.severity === 'blocker' ||
    (f.severity === 'warning' &&
      (f.check === 'size' || f.check === 'server-env'))
  );
}

/**
 * What the Install button does, after the word "Install": "27 packages,
 * 3.0 GB"; '' when the plan changes nothing.
 */
export function installDetail(plan: IPlan, trans: Trans): string {
  const changes = plan.actions.filter(a => a.kind !== 'keep');
  if (changes.length === 0) {
    return '';
  }
  const count = trans._n('%1 package', '%1 packages', changes.length);
  return plan.download_size
    ? trans.__('%1, %2', count, formatBytes(plan.download_size))
    : count;
}

function planTarget(state: IPlanState, trans: Trans): string {
  const target =
    state.response?.plan?.target ?? state.response?.conflict?.target ?? null;
  const kernel = state.kernelName || target?.kernel || '';
  if (target) {
    // the wheel platform tag (manylinux_2_36_x86_64) is in the title
    return trans.__('into %1 (Python %2)', kernel, target.python_version);
  }
  return kernel ? trans.__('into %1', kernel) : '';
}

function PlanBody(props: { plan: IPlan; trans: Trans }): JSX.Element {
  const { plan, trans } = props;
  const [showKept, setShowKept] = React.useState(false);
  const changes = plan.actions.filter(a => a.kind !== 'keep');
  const kept = plan.actions.filter(a => a.kind === 'keep');
  const size =
    plan.download_size === null
      ? trans.__('download size unknown')
      : trans.__('download %1', formatBytes(plan.download_size));
  return (
    <div className="jp-EnvHelper-planBody">
      <div className="jp-EnvHelper-planSummary" role="status">
        {changeSummary(changes, trans)}
        {changes.some(a => a.kind !== 'remove') && ' · ' + size}
      </div>
      <ul
        className="jp-EnvHelper-list jp-EnvHelper-actions"
        aria-label={trans.__('Changes')}
      >
        {changes.map(a => (
          <ActionRow key={a.canonical_name} action={a} trans={trans} />
        ))}
        {showKept &&
          kept.map(a => (
            <ActionRow key={a.canonical_name} action={a} trans={trans} />
          ))}
      </ul>
      {kept.length > 0 && (
        <button
          className="jp-EnvHelper-link"
          onClick={() => setShowKept(!showKept)}
        >
          {showKept
            ? trans.__('Hide the unchanged packages')
            : trans._n(
                'Show %1 package that stays as it is',
                'Show %1 packages that stay as they are',
                kept.length
              )}
        </button>
      )}
      {plan.breaks.length > 0 && (
        <div className="jp-EnvHelper-breaks" role="alert">
          <h3 className="jp-EnvHelper-subheading">
            {trans.__('This would break installed packages')}
          </h3>
          <ul>
            {plan.breaks.map(b => (
              <li key={b.name + b.requirement}>{b.message}</li>
            ))}
          </ul>
        </div>
      )}
      {plan.warnings.length > 0 && (
        <ul className="jp-EnvHelper-warnings">
          {plan.warnings.map(w => (
            <li key={w} className="jp-EnvHelper-warning">
              {w}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function ActionRow(props: { action: IPlanAction; trans: Trans }): JSX.Element {
  const { action: a, trans } = props;
  const versions =
    a.kind === 'upgrade' || a.kind === 'downgrade'
      ? `${a.installed_version} → ${a.version}`
      : a.kind === 'remove'
        ? (a.installed_version ?? '')
        : (a.version ?? '');
  const facts: string[] = [];
  if (a.file?.size !== null && a.file?.size !== undefined) {
    facts.push(formatBytes(a.file.size));
  }
  if (a.required_by.length > 0) {
    facts.push(trans.__('for %1', a.required_by.join(', ')));
  }
  return (
    <li
      className={`jp-EnvHelper-action jp-EnvHelper-action-${a.kind}`}
      data-name={a.canonical_name}
    >
      <span className={`jp-EnvHelper-badge jp-EnvHelper-badge-${a.kind}`}>
        {actionLabel(a.kind, trans)}
      </span>
      <span className="jp-EnvHelper-name">
        {a.name}
        {a.extras.length > 0 ? `[${a.extras.join(',')}]` : ''}
      </span>
      <span className="jp-EnvHelper-version">{versions}</span>
      {a.requested && (
        <span className="jp-EnvHelper-badge">{trans.__('requested')}</span>
      )}
      {a.file?.needs_build && (
        <span
          className="jp-EnvHelper-badge jp-EnvHelper-badge-needs-build"
          title={a.file.filename}
        >
          {trans.__('builds from source')}
        </span>
      )}
      {a.file?.yanked && (
        <span
          className="jp-EnvHelper-badge jp-EnvHelper-badge-yanked"
          title={a.file.yanked_reason ?? undefined}
        >
          {trans.__('yanked')}
        </span>
      )}
      {facts.length > 0 && (
        <span className="jp-EnvHelper-muted jp-EnvHelper-actionFacts">
          {facts.join(' · ')}
        </span>
      )}
    </li>
  );
}

function ConflictView(props: {
  conflict: IConflict;
  trans: Trans;
  disabled: boolean;
  onAction: (action: IFindingAction) => void;
}): JSX.Element {
  const { conflict, trans } = props;
  return (
    <div className="jp-EnvHelper-conflict" role="alert">
      <h3 className="jp-EnvHelper-subheading">
        {trans.__('This cannot be installed here')}
      </h3>
      <p className="jp-EnvHelper-conflictMessage">{conflict.message}</p>
      {conflict.causes.length > 0 && (
        <ul className="jp-EnvHelper-causes" aria-label={trans.__('Causes')}>
          {conflict.causes.map((c, i) => (
            <li key={i}>
              <code>{c.requirement}</code>{' '}
              {c.required_by
                ? trans.__('required by %1', c.required_by)
                : trans.__('asked for by you')}
              {c.detail && (
                <div className="jp-EnvHelper-reason">{c.detail}</div>
              )}
            </li>
          ))}
        </ul>
      )}
      {conflict.ways_out.length > 0 && (
        <>
          <h3 className="jp-EnvHelper-subheading">{trans.__('Ways out')}</h3>
          <ul className="jp-EnvHelper-waysOut">
            {conflict.ways_out.map((w, i) => (
              <li key={i}>
                <span>{w.message}</span>
                {w.action && (
                  <ActionButton
                    action={w.action}
                    disabled={props.disabled}
                    onAction={props.onAction}
                  />
                )}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

function FindingList(props: {
  findings: IFinding[];
  label?: string;
  trans: Trans;
  disabled: boolean;
  onAction: (action: IFindingAction) => void;
}): JSX.Element {
  const { trans } = props;
  const order: Record<string, number> = { blocker: 0, warning: 1, info: 2 };
  const findings = [...props.findings].sort(
    (a, b) => (order[a.severity] ?? 3) - (order[b.severity] ?? 3)
  );
  return (
    <ul
      className="jp-EnvHelper-findings"
      aria-label={props.label ?? trans.__('Findings')}
    >
      {findings.map((f, i) => (
        <li
          key={f.check + i}
          className={`jp-EnvHelper-finding jp-EnvHelper-severity-${f.severity}`}
          data-check={f.check}
        >
          <span className="jp-EnvHelper-severity">
            {severityLabel(f.severity, trans)}
          </span>
          <span className="jp-EnvHelper-findingMessage">{f.message}</span>
          {f.action && (
            <ActionButton
              action={f.action}
              disabled={props.disabled}
              onAction={props.onAction}
            />
          )}
        </li>
      ))}
    </ul>
  );
}

function ActionButton(props: {
  action: IFindingAction;
  disabled: boolean;
  onAction: (action: IFindingAction) => void;
}): JSX.Element | null {
  const { action } = props;
  const known = ['use-requirement', 'switch-kernel', 'restart-kernel'];
  if (!known.includes(action.kind)) {
    return null;
  }
  return (
    <button
      className="jp-mod-styled jp-EnvHelper-findingAction"
      data-action={action.kind}
      disabled={props.disabled}
      onClick={() => props.onAction(action)}
    >
      {action.label}
    </button>
  );
}

function SuggestionList(props: {
  suggestions: IKernelSuggestion[];
  currentKernel: string | null;
  trans: Trans;
  disabled: boolean;
  onSwitch: (name: string) => void;
  /** A suggestion of rank "new-environment" (newenv.ts). */
  onNewEnvironment?: (suggestion: IKernelSuggestion) => void;
}): JSX.Element {
  const { trans } = props;
  return (
    <div className="jp-EnvHelper-suggestions">
      <h3 className="jp-EnvHelper-subheading">{trans.__('Other kernels')}</h3>
      <ul aria-label={trans.__('Other kernels')}>
        {props.suggestions.map(s => (
          <li
            key={s.name ?? s.rank}
            className={`jp-EnvHelper-suggestion jp-EnvHelper-rank-${s.rank}`}
            data-kernel={s.name}
          >
            <span className="jp-EnvHelper-suggestionText">
              <strong>{s.display_name}</strong>{' '}
              {s.message ||
                (s.python_version
                  ? `(Python ${s.python_version}) ${suggestionRankLabel(s.rank, trans)}`
                  : suggestionRankLabel(s.rank, trans))}
            </span>
            {s.rank === 'new-environment' && props.onNewEnvironment && (
              <button
                className="jp-mod-styled jp-EnvHelper-newEnvOpen"
                disabled={props.disabled}
                onClick={() => props.onNewEnvironment!(s)}
              >
                {trans.__('Create a new environment')}
              </button>
            )}
            {s.rank !== 'impossible' &&
              s.rank !== 'new-environment' &&
              s.name !== props.currentKernel && (
                <button
                  className="jp-mod-styled jp-EnvHelper-switch"
                  disabled={props.disabled}
                  aria-label={trans.__('Switch to %1', s.display_name)}
                  onClick={() => props.onSwitch(s.name)}
                >
                  {trans.__('Switch')}
                </button>
              )}
          </li>
        ))}
      </ul>
    </div>
  );
}
