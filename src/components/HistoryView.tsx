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
import { IHistoryState } from '../history';

export interface IHistoryViewProps {
  state: IHistoryState;
  trans: Trans;
  onUndo: (jobId: string) => void;
  onRetry: () => void;
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
              onUndo={props.onUndo}
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
            disabled={props.pending !== null}
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
    </li>
  );
}
