import * as React from 'react';

import { IExportRequest } from '../api';
import {
  Trans,
  environmentWarnings,
  errorMessage,
  kindLabel,
  platformLabel,
  probeStateMessage
} from '../describe';
import { IEnvironmentState, IKernelTarget } from '../model';
import { ExportControl } from './ExportControl';

export interface IEnvironmentViewProps {
  kernel: IKernelTarget | null;
  state: IEnvironmentState;
  trans: Trans;
  onRefresh: () => void;
  /** Export the environment as a file; without it there is no "Export…". */
  onExport?: (request: IExportRequest) => Promise<unknown>;
}

/**
 * The header of the panel: which kernel, which Python, which environment,
 * what is wrong with it.
 */
export function EnvironmentView(props: IEnvironmentViewProps): JSX.Element {
  const { kernel, state, trans } = props;
  switch (state.status) {
    case 'empty':
      return (
        <div className="jp-EnvHelper-environment jp-EnvHelper-message">
          {trans.__(
            "Open a notebook or console to see its kernel's environment"
          )}
        </div>
      );
    case 'no-kernel':
      return (
        <div className="jp-EnvHelper-environment jp-EnvHelper-message">
          {trans.__(
            'This notebook or console has no kernel. Select a kernel to see its environment.'
          )}
        </div>
      );
    case 'starting':
      return (
        <div className="jp-EnvHelper-environment jp-EnvHelper-message">
          {trans.__('Waiting for the kernel to start…')}
        </div>
      );
    case 'loading':
      return (
        <div
          className="jp-EnvHelper-environment jp-EnvHelper-message jp-EnvHelper-loading"
          aria-busy="true"
        >
          {kernel
            ? trans.__('Reading the environment of %1…', kernel.displayName)
            : trans.__('Reading the environment…')}
        </div>
      );
    case 'error':
      return (
        <div className="jp-EnvHelper-environment">
          <KernelTitle kernel={kernel} trans={trans} />
          <div className="jp-EnvHelper-error" role="alert">
            {state.error
              ? errorMessage(state.error, trans)
              : trans.__('Something went wrong.')}
          </div>
          <button
            className="jp-mod-styled jp-EnvHelper-retry"
            onClick={props.onRefresh}
          >
            {trans.__('Try again')}
          </button>
        </div>
      );
    case 'ready':
      break;
  }
  const response = state.response;
  if (!response) {
    return <div className="jp-EnvHelper-environment" />;
  }
  const env = response.environment;
  if (response.state !== 'ok' || !env) {
    return (
      <div className="jp-EnvHelper-environment">
        <KernelTitle
          kernel={kernel}
          trans={trans}
          displayName={response.kernel.display_name}
        />
        <div
          className={`jp-EnvHelper-probeState jp-EnvHelper-state-${response.state}`}
          role={response.state === 'not-python' ? undefined : 'alert'}
        >
          <div className="jp-EnvHelper-probeHeadline">
            {probeStateMessage(response.state, response.kernel.language, trans)}
          </div>
          {response.reason && (
            <div className="jp-EnvHelper-probeReason">{response.reason}</div>
          )}
          {response.detail && (
            <details className="jp-EnvHelper-probeDetail">
              <summary>{trans.__('Details')}</summary>
              <pre>{response.detail}</pre>
            </details>
          )}
        </div>
      </div>
    );
  }
  const warnings = environmentWarnings(response, trans);
  return (
    <div className="jp-EnvHelper-environment">
      <KernelTitle
        kernel={kernel}
        trans={trans}
        displayName={response.kernel.display_name}
      />
      <dl className="jp-EnvHelper-facts">
        <dt>{trans.__('Python')}</dt>
        <dd className="jp-EnvHelper-pythonVersion">
          {env.python_version}
          {env.implementation && env.implementation.toLowerCase() !== 'cpython'
            ? ` (${env.implementation})`
            : ''}
        </dd>
        <dt>{trans.__('Environment')}</dt>
        <dd>
          <span className="jp-EnvHelper-kind">
            {kindLabel(env.kind, trans)}
          </span>
          <div
            className="jp-EnvHelper-path"
            title={trans.__('Interpreter: %1', env.executable)}
          >
            {env.prefix}
          </div>
        </dd>
        <dt>{trans.__('Packages')}</dt>
        <dd className="jp-EnvHelper-packageCount">
          {trans._n('%1 distribution', '%1 distributions', env.package_count)}
        </dd>
        <dt>{trans.__('Platform')}</dt>
        <dd>{platformLabel(env.platform)}</dd>
        <dt>{trans.__('GPU')}</dt>
        <dd className="jp-EnvHelper-gpu">
          {env.gpu?.summary || trans.__('No NVIDIA GPU found')}
        </dd>
        {env.installer_config?.summary && (
          <>
            <dt>{trans.__('Sources')}</dt>
            <dd className="jp-EnvHelper-sources">
              {env.installer_config.summary}
            </dd>
          </>
        )}
      </dl>
      {warnings.length > 0 && (
        <ul className="jp-EnvHelper-warnings" aria-label={trans.__('Warnings')}>
          {warnings.map(w => (
            <li
              key={w.code + w.message}
              className="jp-EnvHelper-warning"
              data-code={w.code}
            >
              {w.message}
            </li>
          ))}
        </ul>
      )}
      {props.onExport && (
        <ExportControl
          kind={env.kind}
          trans={trans}
          onExport={props.onExport}
        />
      )}
    </div>
  );
}

function KernelTitle(props: {
  kernel: IKernelTarget | null;
  trans: Trans;
  displayName?: string;
}): JSX.Element | null {
  const { kernel, trans } = props;
  const name = kernel?.displayName || props.displayName;
  if (!name) {
    return null;
  }
  return (
    <div className="jp-EnvHelper-kernel">
      <span className="jp-EnvHelper-kernelName">{name}</span>
      {kernel && (
        <span
          className={`jp-EnvHelper-kernelStatus jp-EnvHelper-status-${kernel.status}`}
          title={trans.__('Kernel status: %1', kernel.status)}
        >
          {kernel.status}
        </span>
      )}
    </div>
  );
}
