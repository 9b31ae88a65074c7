import * as React from 'react';

import { IExportRequest, KERNEL_DISTRIBUTION } from '../api';
import {
  Trans,
  environmentWarnings,
  errorMessage,
  kindLabel,
  platformDetail,
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
  /**
   * Plan the package that makes `%envhelp` work in this kernel; offered only
   * when the environment has neither jupyter-envhelper distribution.
   */
  onEnableMagic?: () => void;
}

/**
 * Whether `%load_ext jupyter_envhelper` would work: either distribution is there.
 */
export function hasMagic(distributions: readonly { name: string }[]): boolean {
  return distributions.some(d => {
    const name = d.name.toLowerCase().replace(/[-_.]+/g, '-');
    return name === 'jupyter-envhelper' || name === KERNEL_DISTRIBUTION;
  });
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
          remote={response.kernel.remote === true}
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
        remote={response.kernel.remote === true}
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
            title={trans.__('%1 (interpreter: %2)', env.prefix, env.executable)}
          >
            <bdi>{env.prefix}</bdi>
          </div>
        </dd>
        <dt>{trans.__('Packages')}</dt>
        <dd className="jp-EnvHelper-packageCount">
          {trans._n('%1 package', '%1 packages', env.package_count)}
        </dd>
        <dt>{trans.__('Platform')}</dt>
        <dd title={platformDetail(env.platform)}>
          {platformLabel(env.platform)}
        </dd>
        <dt>{trans.__('GPU')}</dt>
        <dd className="jp-EnvHelper-gpu" title={env.gpu?.summary || undefined}>
          {gpuWords(env.gpu?.summary ?? null, trans)}
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
      {props.onEnableMagic && !hasMagic(env.distributions) && (
        <button
          className="jp-mod-styled jp-EnvHelper-enableMagic"
          title={trans.__(
            'Adds a few small packages (no JupyterLab) so that %load_ext jupyter_envhelper works in this kernel'
          )}
          onClick={props.onEnableMagic}
        >
          {trans.__('Enable %envhelp in this kernel')}
        </button>
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
  remote?: boolean;
}): JSX.Element | null {
  const { kernel, trans } = props;
  const name = kernel?.displayName || props.displayName;
  if (!name) {
    return null;
  }
  return (
    <div className="jp-EnvHelper-kernel">
      <span className="jp-EnvHelper-kernelName">{name}</span>
      {props.remote && (
        <span
          className="jp-EnvHelper-remote"
          title={trans.__(
            'This kernel runs elsewhere (a kernel gateway): its environment is read, and changed, through the kernel itself'
          )}
        >
          {trans.__('remote kernel')}
        </span>
      )}
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

/**
 * The GPU line for a beginner: "None: packages run on the CPU" when there is
 * no NVIDIA GPU (the probe's full sentence, toolkit and all, is the title).
 */
export function gpuWords(summary: string | null, trans: Trans): string {
  if (!summary || /^No NVIDIA GPU found/i.test(summary)) {
    return trans.__('None: packages run on the CPU');
  }
  return summary;
}
