import * as React from 'react';

import { Trans } from '../describe';
import {
  INeedsState,
  NeedsModel,
  NeedsStep,
  missingNeeds,
  otherVersionText
} from '../needs';

/**
 * The quiet banner above a notebook whose needs its kernel does not meet.
 * It has the rescue banner's layout (and CSS classes).
 */
export function NeedsBanner(props: {
  model: NeedsModel;
  trans: Trans;
}): JSX.Element {
  const { model, trans } = props;
  const state = model.state;
  const response = state.response;
  const step = state.step;
  const busy = model.busy;
  const other = response
    ? otherVersionText(response, model.kernelName, trans)
    : null;
  const restart = step?.kind === 'installed' && step.restartNeeded;
  return (
    <div
      className="jp-EnvHelper-rescue jp-EnvHelper-needs"
      role="region"
      aria-label={trans.__('What this notebook needs')}
      data-status={state.status}
      data-missing={model.missing.join(' ')}
    >
      <div className="jp-EnvHelper-rescueBody" aria-live="polite">
        {model.missing.length ? (
          <div className="jp-EnvHelper-rescueTitle jp-EnvHelper-needsText">
            {model.text(trans)}
          </div>
        ) : null}
        {model.missing.length ? (
          <ul className="jp-EnvHelper-needsList">
            {missingNeeds(response).map(({ label, need }) => (
              <li
                key={label}
                className="jp-EnvHelper-needsItem"
                data-name={need?.distribution ?? label}
              >
                <strong>{label}</strong>
                {need && need.cells.length ? (
                  <span className="jp-EnvHelper-rescueSummary">
                    {' — '}
                    {need.source === 'recorded'
                      ? trans.__('recorded in the notebook')
                      : need.cells.length === 1
                        ? trans.__('imported in cell %1', need.cells[0])
                        : trans.__(
                            'imported in cells %1',
                            need.cells.join(', ')
                          )}
                  </span>
                ) : need?.source === 'recorded' ? (
                  <span className="jp-EnvHelper-rescueSummary">
                    {' — '}
                    {trans.__('recorded in the notebook')}
                  </span>
                ) : null}
              </li>
            ))}
          </ul>
        ) : null}
        {other ? (
          <div className="jp-EnvHelper-rescueSummary">{other}</div>
        ) : null}
        {step ? (
          <div
            className={`jp-EnvHelper-rescueStep jp-EnvHelper-rescueStep-${step.kind}`}
          >
            {stepText(step, trans)}
          </div>
        ) : null}
      </div>
      <div className="jp-EnvHelper-rescueActions">
        {restart ? (
          <button
            className="jp-mod-styled jp-mod-accept"
            onClick={() => void model.restart()}
          >
            {trans.__('Restart kernel')}
          </button>
        ) : null}
        {model.canInstall ? (
          <button
            className="jp-mod-styled jp-mod-accept"
            title={trans.__(
              'Plan installing %1 into this kernel',
              model.missing.join(', ')
            )}
            onClick={() => void model.install()}
          >
            {trans.__('Install')}
          </button>
        ) : null}
        {model.canChooseKernel ? (
          <button
            className="jp-mod-styled"
            disabled={busy}
            onClick={() => void model.chooseKernel()}
          >
            {trans.__('Choose another kernel')}
          </button>
        ) : null}
        <button
          className="jp-mod-styled jp-EnvHelper-rescueDismiss"
          title={trans.__('Hide this until the notebook is opened again')}
          onClick={() => model.dismiss()}
        >
          {trans.__('Dismiss')}
        </button>
      </div>
    </div>
  );
}

function stepText(step: NeedsStep, trans: Trans): string {
  switch (step.kind) {
    case 'planning':
      return trans.__(
        'Check the plan in the Environment Helper panel, then install it.'
      );
    case 'installing':
      return step.progress
        ? trans.__('Installing… %1', step.progress)
        : trans.__('Installing…');
    case 'installed':
      return step.restartNeeded
        ? trans.__('Installed. Restart the kernel to import it.')
        : trans.__('Installed.');
    case 'install-failed':
      return trans.__('Installing failed: %1', step.message);
    case 'choosing':
      return trans.__('Choosing another kernel…');
    case 'restarting':
      return trans.__('Restarting the kernel…');
    case 'action-failed':
      return step.message;
  }
}

/**
 * The banner of a needs model, re-rendered when the model changes. (The
 * plugin hosts it in a `ReactWidget`.)
 */
export function NeedsBannerView(props: {
  model: NeedsModel;
  trans: Trans;
  /**
   * Told the banner's height whenever it changes: the notebook's content
   * header is a Lumino `BoxLayout` that sizes children by their minimum
   * height.
   */
  onHeight?: (px: number) => void;
}): JSX.Element {
  const { model, trans, onHeight } = props;
  const [, setState] = React.useState<INeedsState>(model.state);
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
    const onChanged = (_: NeedsModel, state: INeedsState) => setState(state);
    model.changed.connect(onChanged);
    setState(model.state);
    return () => {
      model.changed.disconnect(onChanged);
    };
  }, [model]);
  return (
    <div ref={root} className="jp-EnvHelper-rescueHost">
      <NeedsBanner model={model} trans={trans} />
    </div>
  );
}
