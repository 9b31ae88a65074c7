import * as React from 'react';

import type { CurrencyModel, IOutdatedRow } from '../currency';
import { Trans } from '../describe';

export interface IOutdatedViewProps {
  currency: CurrencyModel;
  trans: Trans;
  /** Without it (no changes allowed), no Update buttons. */
  canChange: boolean;
  onOpen: (name: string) => void;
}

const SHOWN = new Set(['update', 'held-back', 'unmanaged', 'unknown']);

/**
 * The installed packages that have newer releases: the newest, the newest that
 * fits, why the newest does not, and Update buttons that open a plan.
 */
export function OutdatedView(props: IOutdatedViewProps): JSX.Element {
  const { currency, trans, canChange } = props;
  const state = currency.outdated;
  if (state.status === 'loading' || state.status === 'idle') {
    return (
      <div className="jp-EnvHelper-message" role="status">
        {trans.__('Looking for newer releases…')}
      </div>
    );
  }
  if (state.status === 'error' || !state.response) {
    return (
      <div className="jp-EnvHelper-message jp-EnvHelper-error" role="alert">
        {state.error?.message ?? trans.__('Could not read the index.')}
        <button
          className="jp-mod-styled"
          onClick={() => void currency.loadOutdated()}
        >
          {trans.__('Try again')}
        </button>
      </div>
    );
  }
  const response = state.response;
  const rows = response.packages
    .filter(r => SHOWN.has(r.status))
    .sort((a, b) => order(a) - order(b) || a.name.localeCompare(b.name));
  const updates = response.outdated;
  return (
    <div className="jp-EnvHelper-outdated">
      <div className="jp-EnvHelper-outdatedSummary" role="status">
        {updates === 0 && response.held_back === 0
          ? trans.__('Every package is current.')
          : trans.__(
              '%1 can be updated, %2 held back',
              updates,
              response.held_back
            )}
      </div>
      {canChange && (updates > 0 || response.held_back > 0) && (
        <div className="jp-EnvHelper-outdatedActions">
          <button
            className="jp-mod-styled jp-mod-accept jp-EnvHelper-updateFit"
            disabled={updates === 0}
            title={trans.__('Only versions that break nothing installed')}
            onClick={() => void currency.planUpdate('all-that-fit')}
          >
            {trans.__('Update all that fit')}
          </button>
          <button
            className="jp-mod-styled jp-EnvHelper-updateAll"
            title={trans.__(
              'The newest of each; the plan shows what that would break'
            )}
            onClick={() => void currency.planUpdate('all')}
          >
            {trans.__('Update all')}
          </button>
        </div>
      )}
      <ul className="jp-EnvHelper-list" aria-label={trans.__('Outdated')}>
        {rows.map(row => (
          <li
            key={row.canonical_name}
            className={`jp-EnvHelper-outdatedItem jp-mod-${row.status}`}
          >
            <button
              className="jp-EnvHelper-row jp-EnvHelper-distribution"
              title={row.message}
              onClick={() => props.onOpen(row.name)}
            >
              <span className="jp-EnvHelper-name">{row.name}</span>
              <span className="jp-EnvHelper-version">
                {row.status === 'update' || row.status === 'held-back'
                  ? `${row.installed} → ${row.fit ?? row.latest}`
                  : row.installed}
              </span>
              {!row.requested && (
                <span className="jp-EnvHelper-badge">
                  {trans.__('dependency')}
                </span>
              )}
            </button>
            {row.status !== 'update' || row.fit !== row.latest ? (
              <div className="jp-EnvHelper-outdatedWhy">{row.message}</div>
            ) : null}
            {canChange && row.status === 'update' && (
              <button
                className="jp-mod-styled jp-EnvHelper-updateOne"
                aria-label={trans.__('Update %1', row.name)}
                onClick={() => void currency.planUpdate('names', [row.name])}
              >
                {trans.__('Update')}
              </button>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

function order(row: IOutdatedRow): number {
  return ['update', 'held-back', 'unknown', 'unmanaged'].indexOf(row.status);
}
