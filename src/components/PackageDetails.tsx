import * as React from 'react';

import { IPackageDetails, IPackageVersion } from '../api';
import {
  Trans,
  errorMessage,
  fitLabel,
  formatBytes,
  formatUploadTime,
  typosquatDetail,
  vulnerabilitySummary
} from '../describe';
import { IDetailsState } from '../model';

/**
 * How many versions show before "Show all".
 */
export const VERSIONS_SHOWN = 15;

export interface IPackageDetailsProps {
  state: IDetailsState;
  trans: Trans;
  onBack: () => void;
  /** Plan installing a requirement (`name` or `name==version`). */
  onInstall?: (requirement: string) => void;
}

/**
 * One package from the index, as it concerns the kernel in front of the user.
 */
export function PackageDetails(props: IPackageDetailsProps): JSX.Element {
  const { state, trans } = props;
  return (
    <div className="jp-EnvHelper-details">
      <button
        className="jp-mod-styled jp-EnvHelper-back"
        onClick={props.onBack}
        aria-label={trans.__('Back to the list')}
      >
        {'← ' + trans.__('Back')}
      </button>
      <h2 className="jp-EnvHelper-detailsName">
        {state.details?.name ?? state.name}
      </h2>
      {state.status === 'loading' && (
        <div className="jp-EnvHelper-message" aria-busy="true">
          {trans.__('Reading %1 from the package index…', state.name)}
        </div>
      )}
      {state.status === 'error' && state.error && (
        <div className="jp-EnvHelper-error" role="alert">
          {errorMessage(state.error, trans)}
        </div>
      )}
      {state.status === 'ready' && state.details && (
        <DetailsBody
          details={state.details}
          trans={trans}
          onInstall={props.onInstall}
        />
      )}
    </div>
  );
}

function DetailsBody(props: {
  details: IPackageDetails;
  trans: Trans;
  onInstall?: (requirement: string) => void;
}): JSX.Element {
  const { details, trans } = props;
  const [showAll, setShowAll] = React.useState(false);
  const links = Object.entries(details.links ?? {}).filter(([, url]) =>
    isWebLink(url)
  );
  const warnings = (details.warnings ?? [])
    .map(w => (typeof w === 'string' ? w : w?.message))
    .filter((w): w is string => !!w);
  const versions = showAll
    ? details.versions
    : details.versions.slice(0, VERSIONS_SHOWN);
  return (
    <>
      {details.typosquat && (
        <div className="jp-EnvHelper-typosquat" role="alert">
          <strong>
            {trans.__('Did you mean %1?', details.typosquat.suggestion)}
          </strong>
          <div>{typosquatDetail(details.typosquat)}</div>
        </div>
      )}
      {details.summary && (
        <p className="jp-EnvHelper-detailsSummary">{details.summary}</p>
      )}
      <div
        className={
          details.fit.version
            ? 'jp-EnvHelper-fit jp-EnvHelper-fit-compatible'
            : 'jp-EnvHelper-fit jp-EnvHelper-fit-incompatible'
        }
        role="status"
      >
        {details.fit.message}
      </div>
      {details.gpu && (
        <div
          className={`jp-EnvHelper-gpuFit jp-EnvHelper-severity-${details.gpu.verdict}`}
          role="status"
          aria-label={trans.__('GPU')}
        >
          <div className="jp-EnvHelper-gpuMachine">{details.gpu.machine}</div>
          {details.gpu.message && <div>{details.gpu.message}</div>}
        </div>
      )}
      {props.onInstall && (
        <div className="jp-EnvHelper-planButtons">
          <button
            className="jp-mod-styled jp-mod-accept jp-EnvHelper-detailsInstall"
            onClick={() => props.onInstall!(details.name)}
          >
            {details.installed_version
              ? trans.__('Upgrade or repair…')
              : trans.__('Install…')}
          </button>
        </div>
      )}
      {warnings.length > 0 && (
        <ul className="jp-EnvHelper-warnings">
          {warnings.map(w => (
            <li key={w} className="jp-EnvHelper-warning">
              {w}
            </li>
          ))}
        </ul>
      )}
      <dl className="jp-EnvHelper-facts">
        <dt>{trans.__('Latest')}</dt>
        <dd>{details.latest ?? trans.__('unknown')}</dd>
        <dt>{trans.__('Installed')}</dt>
        <dd className="jp-EnvHelper-installedVersion">
          {details.installed_version ?? trans.__('not installed')}
        </dd>
        <dt>{trans.__('License')}</dt>
        <dd>{details.license || trans.__('not stated')}</dd>
        <dt>{trans.__('Vulnerabilities')}</dt>
        <dd className="jp-EnvHelper-vulnerabilities">
          {vulnerabilitySummary(details.vulnerabilities, trans)}
          {details.vulnerabilities && details.vulnerabilities.length > 0 && (
            <ul>
              {details.vulnerabilities.map(v => (
                <li key={v.id}>
                  {isWebLink(v.link) ? (
                    <a href={v.link} target="_blank" rel="noopener noreferrer">
                      {v.id}
                    </a>
                  ) : (
                    v.id
                  )}
                  {': ' + v.summary}
                  {v.fixed_in.length > 0 &&
                    ' ' + trans.__('(fixed in %1)', v.fixed_in.join(', '))}
                </li>
              ))}
            </ul>
          )}
        </dd>
      </dl>
      {links.length > 0 && (
        <ul className="jp-EnvHelper-links">
          {links.map(([label, url]) => (
            <li key={label}>
              <a href={url} target="_blank" rel="noopener noreferrer">
                {label}
              </a>
            </li>
          ))}
        </ul>
      )}
      <h3 className="jp-EnvHelper-subheading">
        {trans.__('Versions')}
        <span className="jp-EnvHelper-count">
          {' ' + trans.__('(%1)', details.versions.length)}
        </span>
      </h3>
      <ul
        className="jp-EnvHelper-list jp-EnvHelper-versions"
        aria-label={trans.__('Versions')}
      >
        {versions.map(v => (
          <VersionRow
            key={v.version}
            version={v}
            installed={v.version === details.installed_version}
            trans={trans}
            onInstall={
              props.onInstall
                ? () => props.onInstall!(`${details.name}==${v.version}`)
                : undefined
            }
          />
        ))}
      </ul>
      {!showAll && details.versions.length > VERSIONS_SHOWN && (
        <button
          className="jp-mod-styled jp-EnvHelper-showAll"
          onClick={() => setShowAll(true)}
        >
          {trans.__('Show all %1 versions', details.versions.length)}
        </button>
      )}
    </>
  );
}

function VersionRow(props: {
  version: IPackageVersion;
  installed: boolean;
  trans: Trans;
  onInstall?: () => void;
}): JSX.Element {
  const { version: v, trans } = props;
  const [open, setOpen] = React.useState(false);
  return (
    <li className={`jp-EnvHelper-versionItem jp-EnvHelper-fit-${v.fit}`}>
      <button
        className="jp-EnvHelper-row jp-EnvHelper-versionRow"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
        title={v.reason ?? undefined}
      >
        <span className="jp-EnvHelper-caret" aria-hidden="true">
          {open ? '▾' : '▸'}
        </span>
        <span className="jp-EnvHelper-version">{v.version}</span>
        <span className={`jp-EnvHelper-badge jp-EnvHelper-badge-${v.fit}`}>
          {fitLabel(v.fit, trans)}
        </span>
        {v.yanked && (
          <span
            className="jp-EnvHelper-badge jp-EnvHelper-badge-yanked"
            title={v.yanked_reason ?? undefined}
          >
            {trans.__('yanked')}
          </span>
        )}
        {v.prerelease && (
          <span className="jp-EnvHelper-badge">{trans.__('pre-release')}</span>
        )}
        {props.installed && (
          <span className="jp-EnvHelper-badge jp-EnvHelper-badge-installed">
            {trans.__('installed')}
          </span>
        )}
        <span className="jp-EnvHelper-muted">
          {[
            v.requires_python ? trans.__('Python %1', v.requires_python) : '',
            formatUploadTime(v.upload_time)
          ]
            .filter(Boolean)
            .join(' · ')}
        </span>
      </button>
      {open && (
        <div className="jp-EnvHelper-versionDetail">
          {v.reason && <div className="jp-EnvHelper-reason">{v.reason}</div>}
          {props.onInstall && !props.installed && (
            <button
              className="jp-mod-styled jp-EnvHelper-versionInstall"
              onClick={props.onInstall}
            >
              {trans.__('Install %1…', v.version)}
            </button>
          )}
          {v.yanked && v.yanked_reason && (
            <div className="jp-EnvHelper-reason">
              {trans.__('Yanked: %1', v.yanked_reason)}
            </div>
          )}
          {v.files.length === 0 ? (
            <div className="jp-EnvHelper-muted">
              {trans.__('No files published.')}
            </div>
          ) : (
            <ul className="jp-EnvHelper-files">
              {v.files.map(f => (
                <li
                  key={f.filename}
                  className={`jp-EnvHelper-file jp-EnvHelper-fit-${f.fit}`}
                >
                  <span className="jp-EnvHelper-filename">{f.filename}</span>
                  <span className="jp-EnvHelper-muted">
                    {[f.kind, formatBytes(f.size)].filter(Boolean).join(' · ')}
                  </span>
                  <span
                    className={`jp-EnvHelper-badge jp-EnvHelper-badge-${f.fit}`}
                  >
                    {fitLabel(f.fit, trans)}
                  </span>
                  {f.reason && (
                    <div className="jp-EnvHelper-reason">{f.reason}</div>
                  )}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </li>
  );
}

function isWebLink(url: string | null | undefined): url is string {
  return typeof url === 'string' && /^https?:\/\//i.test(url);
}
