import * as React from 'react';

import { IJob } from '../api';
import {
  Trans,
  changeLine,
  errorMessage,
  formatJobTime,
  jobStateLabel,
  jobTitle
} from '../describe';
import { IHistoryState, IUndoPreviewState } from '../history';

export interface IHistoryViewProps {
  state: IHistoryState;
  trans: Trans;
  onUndo: (jobId: string) => void;
  onRetry: () => void;
  /** Ask first: Undo shows what it would change, then "Confirm undo" runs it. */
  onPreviewUndo?: (jobId: string) => void;
  onCancelUndo?: () => void;
}

/**
 * The changes made to this environment, newest first, each with Undo.
 */
export function HistoryView(props: IHistoryViewProps): JSX.Element {
  const { state, trans } = props;
  if (state.status === 'error' && state.error) {
    return (
      <div className="jp-EnvHelper-history">
        <div className="jp-EnvHelper-error" role="alert">
          {errorMessage(state.error, trans)}
        </div>
        <button
          className="jp-mod-styled jp-EnvHelper-retry"
          onClick={props.onRetry}
        >
          {trans.__('Try again')}
        </button>
      </div>
    );
  }
  if (state.status !== 'ready') {
    return (
      <div className="jp-EnvHelper-message jp-EnvHelper-loading">
        {trans.__('Reading the history…')}
      </div>
    );
  }
  return (
    <div className="jp-EnvHelper-history">
      {state.actionError && (
        <div className="jp-EnvHelper-error" role="alert">
          {errorMessage(state.actionError, trans)}
        </div>
      )}
      {state.jobs.length === 0 ? (
        <div className="jp-EnvHelper-message">
          {trans.__(
            'Nothing was changed here through the Environment Helper yet.'
          )}
        </div>
      ) : (
        <ul className="jp-EnvHelper-list" aria-label={trans.__('History')}>
          {state.jobs.map(job => (
            <HistoryEntry
              key={job.id}
              job={job}
              pending={state.pending}
              trans={trans}
              onUndo={props.onPreviewUndo ?? props.onUndo}
              preview={
                state.preview?.jobId === String(job.id) ? state.preview : null
              }
              onConfirm={props.onUndo}
              onCancel={props.onCancelUndo}
            />
          ))}
        </ul>
      )}
    </div>
  );
}

function HistoryEntry(props: {
  job: IJob;
  pending: string | null;
  trans: Trans;
  onUndo: (jobId: string) => void;
  preview?: IUndoPreviewState | null;
  onConfirm?: (jobId: string) => void;
  onCancel?: () => void;
}): JSX.Element {
  const { job, trans } = props;
  const changed = job.outcome?.changed ?? [];
  const undoable =
    job.state !== 'running' && job.state !== 'queued' && changed.length > 0;
  const undoing = props.pending === `undo:${job.id}`;
  return (
    <li
      className={`jp-EnvHelper-historyEntry jp-EnvHelper-job-${job.state}`}
      data-job={job.id}
    >
      <div className="jp-EnvHelper-historyHead">
        <span className="jp-EnvHelper-name">{jobTitle(job, trans)}</span>
        <span className={`jp-EnvHelper-badge jp-EnvHelper-badge-${job.state}`}>
          {jobStateLabel(job.state, trans)}
        </span>
        <span className="jp-EnvHelper-muted">
          {formatJobTime(job.finished ?? job.created)}
        </span>
        {undoable && (
          <button
            className="jp-mod-styled jp-EnvHelper-undo"
            disabled={props.pending !== null || !!props.preview}
            aria-label={trans.__('Undo %1', jobTitle(job, trans))}
            onClick={() => props.onUndo(String(job.id))}
          >
            {undoing ? trans.__('Starting…') : trans.__('Undo')}
          </button>
        )}
      </div>
      {changed.length > 0 && (
        <div className="jp-EnvHelper-muted jp-EnvHelper-historyChanges">
          {changed.map(changeLine).join(', ')}
        </div>
      )}
      {job.outcome?.failure && (
        <div className="jp-EnvHelper-muted">{job.outcome.failure.message}</div>
      )}
      {props.preview && (
        <UndoConfirm
          preview={props.preview}
          pending={props.pending}
          trans={trans}
          onConfirm={() => props.onConfirm?.(String(job.id))}
          onCancel={() => props.onCancel?.()}
        />
      )}
    </li>
  );
}

/**
 * "Undo will: …" with Confirm undo and Keep as it is: an undo changes the
 * environment (often it uninstalls), so it asks first.
 */
function UndoConfirm(props: {
  preview: IUndoPreviewState;
  pending: string | null;
  trans: Trans;
  onConfirm: () => void;
  onCancel: () => void;
}): JSX.Element {
  const { preview, trans } = props;
  const actions =
    preview.response?.plan.actions.filter(a => a.kind !== 'keep') ?? [];
  const unavailable = preview.response?.unavailable ?? [];
  const blocked = unavailable.length > 0;
  return (
    <div
      className="jp-EnvHelper-undoConfirm"
      role="group"
      aria-label={trans.__('Confirm the undo')}
    >
      {preview.status === 'loading' && (
        <div className="jp-EnvHelper-message jp-EnvHelper-loading">
          {trans.__('Working out what the undo would change…')}
        </div>
      )}
      {preview.status === 'error' && preview.error && (
        <div className="jp-EnvHelper-error" role="alert">
          {errorMessage(preview.error, trans)}
        </div>
      )}
      {preview.status === 'ready' && preview.response && (
        <>
          <div>{trans.__('Undo will:')}</div>
          <ul className="jp-EnvHelper-undoActions">
            {actions.map(a => (
              <li key={a.canonical_name} data-kind={a.kind}>
                {undoActionLine(a, trans)}
              </li>
            ))}
          </ul>
          {unavailable.map(u => (
            <div key={u} className="jp-EnvHelper-warning">
              {u}
            </div>
          ))}
        </>
      )}
      <div className="jp-EnvHelper-planButtons">
        <button
          className="jp-mod-styled jp-mod-warn jp-EnvHelper-confirmUndo"
          disabled={
            preview.status === 'loading' || blocked || props.pending !== null
          }
          onClick={props.onConfirm}
        >
          {trans.__('Confirm undo')}
        </button>
        <button className="jp-mod-styled" onClick={props.onCancel}>
          {trans.__('Keep as it is')}
        </button>
      </div>
    </div>
  );
}

function undoActionLine(
  a: {
    kind: string;
    name: string;
    version: string | null;
    installed_version: string | null;
  },
  trans: Trans
): string {
  switch (a.kind) {
    case 'remove':
      return trans.__('remove %1 %2', a.name, a.installed_version ?? '');
    case 'install':
      return trans.__('put back %1 %2', a.name, a.version ?? '');
    default:
      return trans.__(
        'change %1 %2 → %3',
        a.name,
        a.installed_version ?? '',
        a.version ?? ''
      );
  }
}
