import * as React from 'react';

import { IDistribution } from '../api';
import type { InstalledMode } from '../currency';
import { Trans } from '../describe';

export interface IInstalledListProps {
  distributions: IDistribution[];
  total: number;
  filter: string;
  trans: Trans;
  onFilterChange: (filter: string) => void;
  onOpen: (name: string) => void;
  /** Start uninstalling a distribution (after the user confirmed). */
  onUninstall?: (name: string) => void;
  /** Whether an uninstall is being started. */
  uninstalling?: boolean;
  /** All, Outdated or Graph (src/currency.ts); without it, the list alone. */
  mode?: InstalledMode;
  onModeChange?: (mode: InstalledMode) => void;
  /** What the Outdated and Graph modes show. */
  children?: React.ReactNode;
}

/**
 * The distributions installed in the kernel's environment, with a filter box.
 */
export function InstalledList(props: IInstalledListProps): JSX.Element {
  const { distributions, total, filter, trans } = props;
  const [confirming, setConfirming] = React.useState<string | null>(null);
  const usual = usualInstaller(distributions);
  const modes = props.onModeChange && (
    <div
      className="jp-EnvHelper-modes"
      role="group"
      aria-label={trans.__('Show')}
    >
      {(
        [
          ['all', trans.__('All')],
          ['outdated', trans.__('Outdated')],
          ['graph', trans.__('Graph')]
        ] as [InstalledMode, string][]
      ).map(([mode, label]) => (
        <button
          key={mode}
          className="jp-mod-styled jp-EnvHelper-mode"
          aria-pressed={(props.mode ?? 'all') === mode}
          onClick={() => props.onModeChange!(mode)}
        >
          {label}
        </button>
      ))}
    </div>
  );
  if (props.mode && props.mode !== 'all') {
    return (
      <div className="jp-EnvHelper-installed">
        {modes}
        {props.children}
      </div>
    );
  }
  return (
    <div className="jp-EnvHelper-installed">
      {modes}
      <input
        className="jp-mod-styled jp-EnvHelper-filter"
        type="search"
        placeholder={trans.__('Filter installed packages')}
        aria-label={trans.__('Filter installed packages')}
        value={filter}
        onChange={event => props.onFilterChange(event.target.value)}
      />
      {filter.trim() && (
        <div className="jp-EnvHelper-count">
          {trans.__('%1 of %2 shown', distributions.length, total)}
        </div>
      )}
      {distributions.length === 0 ? (
        <div className="jp-EnvHelper-message">
          {total === 0
            ? trans.__('No packages are installed.')
            : trans.__('No installed package matches "%1".', filter.trim())}
        </div>
      ) : (
        <ul className="jp-EnvHelper-list" aria-label={trans.__('Installed')}>
          {distributions.map(d => (
            <li
              key={`${d.name}@${d.location}`}
              className="jp-EnvHelper-installedItem"
            >
              <button
                className="jp-EnvHelper-row jp-EnvHelper-distribution"
                title={rowTitle(d, trans)}
                onClick={() => props.onOpen(d.name)}
              >
                <span className="jp-EnvHelper-name">{d.name}</span>
                <span className="jp-EnvHelper-version">{d.version}</span>
                {d.editable && (
                  <span className="jp-EnvHelper-badge jp-EnvHelper-badge-editable">
                    {trans.__('editable')}
                  </span>
                )}
                {d.installer && d.installer !== usual && (
                  <span
                    className="jp-EnvHelper-badge jp-EnvHelper-badge-installer"
                    title={trans.__(
                      'Installed by %1 (most packages here: %2)',
                      d.installer,
                      usual ?? '?'
                    )}
                  >
                    {d.installer}
                  </span>
                )}
              </button>
              {props.onUninstall && confirming !== d.name && (
                <button
                  className="jp-EnvHelper-iconButton jp-EnvHelper-uninstall"
                  aria-label={trans.__('Uninstall %1', d.name)}
                  title={trans.__('Uninstall %1', d.name)}
                  disabled={props.uninstalling}
                  onClick={() => setConfirming(d.name)}
                >
                  {'✕'}
                </button>
              )}
              {props.onUninstall && confirming === d.name && (
                <div className="jp-EnvHelper-confirm" role="group">
                  <span>{trans.__('Uninstall %1 %2?', d.name, d.version)}</span>
                  <button
                    className="jp-mod-styled jp-mod-warn jp-EnvHelper-confirmUninstall"
                    disabled={props.uninstalling}
                    onClick={() => {
                      setConfirming(null);
                      props.onUninstall!(d.name);
                    }}
                  >
                    {trans.__('Uninstall')}
                  </button>
                  <button
                    className="jp-mod-styled jp-mod-reject"
                    onClick={() => setConfirming(null)}
                  >
                    {trans.__('Keep')}
                  </button>
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/**
 * The installer that installed most of `distributions` (null: none known). A
 * row names its installer only when it is another one.
 */
export function usualInstaller(distributions: IDistribution[]): string | null {
  const counts = new Map<string, number>();
  for (const d of distributions) {
    if (d.installer) {
      counts.set(d.installer, (counts.get(d.installer) ?? 0) + 1);
    }
  }
  let best: string | null = null;
  for (const [installer, n] of counts) {
    if (best === null || n > (counts.get(best) ?? 0)) {
      best = installer;
    }
  }
  return best;
}

function rowTitle(d: IDistribution, trans: Trans): string {
  const what = d.summary ?? d.name;
  return d.installer
    ? `${what}\n${trans.__('Installed by %1', d.installer)}`
    : what;
}
