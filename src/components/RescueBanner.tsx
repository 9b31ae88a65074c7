import * as React from 'react';

import { KERNEL_DISTRIBUTION } from '../api';
import { Trans } from '../describe';
import { IRescueState, RescueModel, RescueStep } from '../rescue';

export interface IRescueBannerProps {
  state: IRescueState;
  /** Whether "Install here" is offered. */
  canInstall: boolean;
  busy: boolean;
  trans: Trans;
  onInstall: () => void;
  onSwitch: (kernel: string) => void;
  /** No kernel can take the module: a new environment (newenv.ts). */
  onNewEnvironment?: () => void;
  onRestart: () => void;
  onRerun: () => void;
  onDismiss: () => void;
}

/**
 * The inline help after "No module named X", rendered from the rescue's
 * state.
 */
export function RescueBanner(props: IRescueBannerProps): JSX.Element {
  const { state, trans, busy } = props;
  const response = state.response;
  const step = state.step;
  const distribution = response?.distribution ?? null;
  const verdict = response?.verdict ?? null;
  const elsewhere = response?.kernels_with_module ?? [];
  const canRerun =
    (step?.kind === 'installed' && !step.restartNeeded) ||
    step?.kind === 'switched' ||
    step?.kind === 'restarted';
  // After a switch the verdict and the list were about the old kernel.
  const switched = step?.kind === 'switching' || step?.kind === 'switched';
  const offerRestart =
    !busy &&
    !canRerun &&
    (verdict === 'installed' ||
      (step?.kind === 'installed' && step.restartNeeded));
  return (
    <div
      className="jp-EnvHelper-rescue"
      role="region"
      aria-label={trans.__('Help with the missing module')}
      data-module={state.module}
      data-status={state.status}
    >
      <div className="jp-EnvHelper-rescueBody" aria-live="polite">
        {state.status === 'loading' ? (
          <div className="jp-EnvHelper-rescueLoading">
            {trans.__(
              "Looking for the package that provides '%1'…",
              state.module
            )}
          </div>
        ) : state.status === 'error' ? (
          <div className="jp-EnvHelper-rescueError">
            {trans.__(
              "Could not look for the package that provides '%1': %2",
              state.module,
              state.error?.message ?? ''
            )}
          </div>
        ) : (
          <>
            <div className="jp-EnvHelper-rescueTitle">
              {distribution ? (
                <>
                  {trans.__("'%1' is provided by", state.module)}{' '}
                  <strong
                    className="jp-EnvHelper-rescueDistribution"
                    data-name={distribution.name}
                  >
                    {distribution.name}
                  </strong>
                  {distribution.version ? ` ${distribution.version}` : ''}
                  {distribution.summary ? (
                    <span className="jp-EnvHelper-rescueSummary">
                      {' — '}
                      {distribution.summary}
                    </span>
                  ) : null}
                </>
              ) : (
                trans.__("No module named '%1'", state.module)
              )}
            </div>
            {response?.message && !switched ? (
              <div
                className={`jp-EnvHelper-rescueMessage jp-EnvHelper-rescue-${
                  verdict ?? 'none'
                }`}
                data-verdict={verdict ?? ''}
              >
                {response.message}
              </div>
            ) : null}
            {elsewhere.length > 0 && !switched ? (
              <div className="jp-EnvHelper-rescueElsewhere">
                {trans._n(
                  'This kernel already has it:',
                  'These kernels already have it:',
                  elsewhere.length
                )}
                <ul>
                  {elsewhere.map(k => (
                    <li key={k.name} data-kernel={k.name}>
                      {trans.__(
                        '%1 (Python %2, %3 %4)',
                        k.display_name,
                        k.python_version ?? '?',
                        k.distribution,
                        k.version
                      )}
                    </li>
                  ))}
                </ul>
              </div>
            ) : null}
          </>
        )}
        {step ? (
          <div
            className={`jp-EnvHelper-rescueStep jp-EnvHelper-rescueStep-${step.kind}`}
          >
            {stepText(step, trans)}
          </div>
        ) : null}
      </div>
      <div className="jp-EnvHelper-rescueActions">
        {canRerun ? (
          <button
            className="jp-mod-styled jp-mod-accept"
            onClick={props.onRerun}
          >
            {trans.__('Run the cell again')}
          </button>
        ) : null}
        {offerRestart ? (
          <button
            className="jp-mod-styled jp-mod-accept"
            onClick={props.onRestart}
          >
            {trans.__('Restart kernel')}
          </button>
        ) : null}
        {props.canInstall && distribution ? (
          <button
            className="jp-mod-styled jp-mod-accept"
            disabled={busy}
            title={trans.__(
              'Plan installing %1 into this kernel',
              distribution.name
            )}
            onClick={props.onInstall}
          >
            {distribution.name === KERNEL_DISTRIBUTION
              ? trans.__('Enable %envhelp in this kernel')
              : trans.__('Install here')}
          </button>
        ) : null}
        {state.status === 'ready' && !canRerun
          ? elsewhere.map(k => (
              <button
                key={k.name}
                className="jp-mod-styled"
                disabled={busy}
                data-kernel={k.name}
                onClick={() => props.onSwitch(k.name)}
              >
                {trans.__('Switch to kernel %1', k.display_name)}
              </button>
            ))
          : null}
        {state.status === 'ready' && !canRerun && props.onNewEnvironment ? (
          <button
            className="jp-mod-styled jp-EnvHelper-rescueNewEnv"
            disabled={busy}
            onClick={props.onNewEnvironment}
          >
            {trans.__('Create a new environment')}
          </button>
        ) : null}
        <button
          className="jp-mod-styled jp-EnvHelper-rescueDismiss"
          onClick={props.onDismiss}
        >
          {trans.__('Dismiss')}
        </button>
      </div>
    </div>
  );
}

function stepText(step: RescueStep, trans: Trans): string {
  switch (step.kind) {
    case 'planning':
      return trans.__(
        'Check the plan for %1 in the Environment Helper panel, then install it.',
        step.distribution
      );
    case 'plan-closed':
      return trans.__(
        'The plan for %1 was closed: nothing was installed.',
        step.distribution
      );
    case 'installing':
      return trans.__('Installing %1…', step.distribution);
    case 'installed':
      return step.restartNeeded
        ? trans.__(
            '%1 is installed. Restart the kernel to import it.',
            step.distribution
          )
        : trans.__('%1 is installed.', step.distribution);
    case 'install-failed':
      return trans.__(
        'Installing %1 failed: %2',
        step.distribution,
        step.message
      );
    case 'switching':
      return trans.__('Switching to %1…', step.kernel);
    case 'switched':
      return trans.__('The notebook now runs %1.', step.kernel);
    case 'restarting':
      return trans.__('Restarting the kernel…');
    case 'restarted':
      return trans.__('The kernel was restarted.');
    case 'action-failed':
      return step.message;
  }
}

/**
 * The banner of a rescue model, re-rendered when the model changes. (The
 * plugin hosts it in a `ReactWidget`.)
 */
export function RescueBannerView(props: {
  model: RescueModel;
  trans: Trans;
  /**
   * Told the banner's height whenever it changes: a host laid out by a
   * Lumino `BoxLayout` (the notebook's content header) must size it.
   */
  onHeight?: (px: number) => void;
}): JSX.Element {
  const { model, trans, onHeight } = props;
  const [, setState] = React.useState(model.state);
  const root = React.useRef<HTMLDivElement>(null);
  React.useLayoutEffect(() => {
    const node = root.current;
    if (!node || !onHeight) {
      return;
    }
    onHeight(node.offsetHeight);
    if (typeof ResizeObserver === 'undefined') {
      return;
    }
    const observer = new ResizeObserver(() => onHeight(node.offsetHeight));
    observer.observe(node);
    return () => observer.disconnect();
  });
  React.useEffect(() => {
    const onChanged = (_: RescueModel, state: IRescueState) => setState(state);
    model.changed.connect(onChanged);
    setState(model.state);
    return () => {
      model.changed.disconnect(onChanged);
    };
  }, [model]);
  return (
    <div ref={root} className="jp-EnvHelper-rescueHost">
      <RescueBanner
        state={model.state}
        canInstall={model.canInstall}
        busy={model.busy}
        trans={trans}
        onInstall={() => void model.installHere()}
        onSwitch={name => void model.switchTo(name)}
        onNewEnvironment={
          model.newEnvironmentOffer
            ? () => void model.createEnvironment()
            : undefined
        }
        onRestart={() => void model.restart()}
        onRerun={() => model.rerun()}
        onDismiss={() => model.dismiss()}
      />
    </div>
  );
}
