import * as React from 'react';

import { Trans, errorMessage, formatBytes, phaseLabel } from '../describe';
import { NewEnvironmentModel } from '../newenv';

export interface INewEnvironmentViewProps {
  model: NewEnvironmentModel;
  trans: Trans;
}

/**
 * A new environment with its own kernel: the plan (Python, packages, size,
 * findings), a name, Create; then the job's progress and the switch.
 */
export function NewEnvironmentView(
  props: INewEnvironmentViewProps
): JSX.Element | null {
  const { model, trans } = props;
  const state = model.state;
  if (!state) {
    return null;
  }
  const plan = state.plan;
  const job = state.job;
  const installs = (plan?.plan?.actions ?? []).filter(a => a.kind !== 'keep');
  const size = plan?.plan?.download_size ?? null;
  const running = state.status === 'creating' || state.status === 'switching';
  const fraction = job?.progress?.fraction ?? null;
  return (
    <div
      className={`jp-EnvHelper-newEnv jp-EnvHelper-newEnv-${state.status}`}
      aria-busy={state.status === 'planning' || running}
    >
      <button
        className="jp-mod-styled jp-EnvHelper-back"
        onClick={() => model.close()}
        disabled={running}
        aria-label={trans.__('Back to the list')}
      >
        {'← ' + trans.__('Back')}
      </button>
      <h2 className="jp-EnvHelper-detailsName">
        {trans.__('New environment')}
      </h2>
      <div className="jp-EnvHelper-planTarget">
        {state.request.requirements.join(', ')}
      </div>
      {state.status === 'planning' && (
        <div className="jp-EnvHelper-message" role="status">
          {trans.__('Planning a new environment…')}
        </div>
      )}
      {plan && (
        <div className="jp-EnvHelper-newEnvPlan">
          <div className="jp-EnvHelper-newEnvPython">
            {plan.python.download
              ? trans.__('Python %1 (downloaded by uv)', plan.python.version)
              : trans.__(
                  'Python %1 (%2)',
                  plan.python.version,
                  plan.python.path ?? ''
                )}
          </div>
          <div className="jp-EnvHelper-newEnvWhere">
            {trans.__('In %1', plan.directory)}
          </div>
          {plan.ready ? (
            <div className="jp-EnvHelper-newEnvSummary">
              {trans._n(
                '%1 package to install',
                '%1 packages to install',
                installs.length
              )}
              {size !== null ? ` (${formatBytes(size)})` : ''}
            </div>
          ) : (
            <div className="jp-EnvHelper-error" role="alert">
              {plan.conflict?.message ??
                plan.findings.find(f => f.severity === 'blocker')?.message ??
                trans.__('No Python here takes this request.')}
            </div>
          )}
          {plan.findings.length > 0 && (
            <ul className="jp-EnvHelper-findings">
              {plan.findings.map((f, i) => (
                <li
                  key={i}
                  className={`jp-EnvHelper-finding jp-EnvHelper-finding-${f.severity}`}
                >
                  {f.message}
                </li>
              ))}
            </ul>
          )}
          <label className="jp-EnvHelper-newEnvName">
            {trans.__('Kernel name')}{' '}
            <input
              className="jp-EnvHelper-newEnvNameInput"
              value={state.name}
              disabled={state.status !== 'planned'}
              onChange={e => model.setName(e.target.value)}
            />
          </label>
        </div>
      )}
      {running && (
        <div className="jp-EnvHelper-newEnvProgress" role="status">
          <progress max={1} value={fraction ?? undefined} />{' '}
          {state.status === 'switching'
            ? trans.__('Switching the notebook to %1…', state.name)
            : job?.progress?.message ||
              phaseLabel(job?.progress?.phase ?? 'resolving', trans)}
        </div>
      )}
      {state.status === 'done' && (
        <div className="jp-EnvHelper-newEnvDone" role="status">
          {trans.__(
            'Created. The notebook now runs on %1.',
            plan?.display_name ?? state.name
          )}
        </div>
      )}
      {state.status === 'failed' && (
        <div className="jp-EnvHelper-error" role="alert">
          {job?.outcome?.message ??
            trans.__('The environment was not created.')}
        </div>
      )}
      {state.error && (
        <div className="jp-EnvHelper-error" role="alert">
          {errorMessage(state.error, trans)}
        </div>
      )}
      <div className="jp-EnvHelper-planButtons">
        {state.status === 'creating' ? (
          <button
            className="jp-mod-styled jp-mod-warn"
            onClick={() => void model.cancel()}
          >
            {trans.__('Cancel')}
          </button>
        ) : (
          <button
            className="jp-mod-styled jp-mod-accept jp-EnvHelper-newEnvCreate"
            disabled={!model.canCreate}
            onClick={() => void model.create()}
          >
            {trans.__('Create environment and kernel')}
          </button>
        )}
      </div>
    </div>
  );
}
