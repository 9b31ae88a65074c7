import * as React from 'react';

import { IJob, IJobOutcome } from '../api';
import { IRestartState } from '../changes';
import {
  Trans,
  bytesProgress,
  changeLine,
  elapsedWords,
  errorMessage,
  filesProgress,
  jobStateLabel,
  jobTitle,
  outcomeHeadline,
  phaseLabel,
  restartWords
} from '../describe';
import { JobModel } from '../job';

export interface IJobViewProps {
  job: JobModel;
  /** Whether the panel's notebook runs the kernel the job changed. */
  canRestart: boolean;
  restart: IRestartState | null;
  trans: Trans;
  onCancel: () => void;
  onClose: () => void;
  onRestart: () => void;
}

/**
 * A running or finished job: progress, Cancel, the log, the outcome.
 */
export function JobView(props: IJobViewProps): JSX.Element {
  const { job: model, trans } = props;
  const job = model.job;
  const [showLog, setShowLog] = React.useState(false);
  return (
    <div
      className={`jp-EnvHelper-job jp-EnvHelper-job-${job.state}`}
      data-job={job.id}
    >
      <button
        className="jp-mod-styled jp-EnvHelper-back"
        onClick={props.onClose}
        aria-label={trans.__('Back to the list')}
      >
        {'← ' + trans.__('Back')}
      </button>
      <h2 className="jp-EnvHelper-detailsName">{jobTitle(job, trans)}</h2>
      {model.kernelName && (
        <div className="jp-EnvHelper-planTarget">
          {trans.__('in %1', model.kernelName)}
        </div>
      )}
      <div className="jp-EnvHelper-jobState" role="status">
        {jobStateLabel(job.state, trans)}
      </div>
      {!model.finished && (
        <Progress job={job} cancelling={model.cancelling} trans={trans} />
      )}
      {model.error && !model.finished && (
        <div className="jp-EnvHelper-muted">
          {trans.__(
            'Lost touch with the server, trying again: %1',
            errorMessage(model.error, trans)
          )}
        </div>
      )}
      {!model.finished && (
        <button
          className="jp-mod-styled jp-mod-reject jp-EnvHelper-cancel"
          disabled={model.cancelling}
          onClick={props.onCancel}
        >
          {model.cancelling ? trans.__('Cancelling…') : trans.__('Cancel')}
        </button>
      )}
      {model.finished && (
        <Outcome
          job={job}
          outcome={job.outcome}
          canRestart={props.canRestart}
          restart={props.restart?.jobId === model.id ? props.restart : null}
          trans={trans}
          onRestart={props.onRestart}
        />
      )}
      <button
        className="jp-EnvHelper-link jp-EnvHelper-logToggle"
        aria-expanded={showLog}
        onClick={() => setShowLog(!showLog)}
      >
        {showLog ? trans.__('Hide the log') : trans.__('Show the log')}
      </button>
      {showLog && job.backend && (
        <div className="jp-EnvHelper-muted jp-EnvHelper-installer">
          {trans.__('Installer: %1', job.backend)}
        </div>
      )}
      {showLog && (
        <pre className="jp-EnvHelper-log" aria-label={trans.__('Log')}>
          {model.log.length ? model.log.join('\n') : trans.__('(empty)')}
        </pre>
      )}
    </div>
  );
}

function Progress(props: {
  job: IJob;
  cancelling: boolean;
  trans: Trans;
}): JSX.Element {
  const { job, trans } = props;
  const progress = job.progress;
  const counted =
    (progress?.files_done ?? 0) > 0 || (progress?.bytes_done ?? 0) > 0;
  // A bar that only moves with real numbers: while nothing is counted yet (or
  // a build runs) it is a moving, indeterminate bar beside a clock.
  const fraction =
    progress?.phase !== 'downloading' || !counted
      ? null
      : progress?.fraction !== null && progress?.fraction !== undefined
        ? Math.max(0, Math.min(1, progress.fraction))
        : progress?.bytes_total && progress.bytes_done !== null
          ? Math.max(0, Math.min(1, progress.bytes_done / progress.bytes_total))
          : null;
  const phase = progress?.phase
    ? phaseLabel(progress.phase, trans)
    : job.state === 'queued'
      ? phaseLabel('queued', trans)
      : trans.__('Starting');
  const files = progress
    ? filesProgress(progress.files_done, progress.files_total, trans)
    : '';
  const bytes =
    progress && (counted || !files)
      ? bytesProgress(progress.bytes_done, progress.bytes_total, trans)
      : '';
  const now = useClock(!!progress?.since);
  // the server's clock: shown only when it is plausibly the browser's too
  const seconds = progress?.since ? now / 1000 - progress.since : 0;
  const elapsed =
    seconds >= 1 && seconds < 6 * 3600 ? elapsedWords(seconds, trans) : '';
  const label = [phase, progress?.package, files, bytes]
    .filter(Boolean)
    .join(' · ');
  return (
    <div className="jp-EnvHelper-progress">
      <div
        className={
          fraction === null
            ? 'jp-EnvHelper-progressBar jp-mod-indeterminate'
            : 'jp-EnvHelper-progressBar'
        }
        role="progressbar"
        aria-label={trans.__('Progress')}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={
          fraction === null ? undefined : Math.round(fraction * 100)
        }
        aria-valuetext={label}
      >
        <div
          className="jp-EnvHelper-progressFill"
          style={
            fraction === null ? undefined : { width: `${fraction * 100}%` }
          }
        />
      </div>
      <div className="jp-EnvHelper-progressLabel">
        <span className="jp-EnvHelper-phase">{phase}</span>
        {progress?.package && (
          <span className="jp-EnvHelper-name">{progress.package}</span>
        )}
        {files && (
          <span className="jp-EnvHelper-muted jp-EnvHelper-files">{files}</span>
        )}
        {bytes && <span className="jp-EnvHelper-muted">{bytes}</span>}
        {elapsed && (
          <span
            className="jp-EnvHelper-muted jp-EnvHelper-elapsed"
            title={trans.__('Time in this step')}
          >
            {elapsed}
          </span>
        )}
        {fraction !== null && (
          <span className="jp-EnvHelper-muted">
            {`${Math.round(fraction * 100)}%`}
          </span>
        )}
      </div>
      {progress?.message && (
        <div className="jp-EnvHelper-muted jp-EnvHelper-progressMessage">
          {progress.message}
        </div>
      )}
    </div>
  );
}

/**
 * The time now, ticking each second while `running`.
 */
function useClock(running: boolean): number {
  const [now, setNow] = React.useState(() => Date.now());
  React.useEffect(() => {
    if (!running) {
      return;
    }
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);
  return now;
}

function Outcome(props: {
  job: IJob;
  outcome: IJobOutcome | null;
  canRestart: boolean;
  restart: IRestartState | null;
  trans: Trans;
  onRestart: () => void;
}): JSX.Element {
  const { job, outcome, trans, restart } = props;
  const failed = job.state === 'failed';
  const nothingChangedCancel =
    job.state === 'cancelled' && (outcome?.changed.length ?? 0) === 0;
  return (
    <div
      className={`jp-EnvHelper-outcome jp-EnvHelper-outcome-${job.state}`}
      role={failed ? 'alert' : 'status'}
    >
      <div className="jp-EnvHelper-outcomeMessage">
        {outcomeHeadline(job, outcome, trans)}
      </div>
      {outcome?.failure && !nothingChangedCancel && (
        <div className="jp-EnvHelper-failure">
          {!(outcome.message || '').includes(outcome.failure.message) && (
            <div>{outcome.failure.message}</div>
          )}
          {outcome.failure.way_out && (
            <div className="jp-EnvHelper-wayOut">
              <strong>{trans.__('Way out:')}</strong> {outcome.failure.way_out}
            </div>
          )}
        </div>
      )}
      {outcome && outcome.changed.length > 0 && (
        <>
          <div className="jp-EnvHelper-muted">
            {job.state === 'cancelled'
              ? trans.__('Changed before it stopped:')
              : trans.__('Changed:')}
          </div>
          <ul className="jp-EnvHelper-changed" aria-label={trans.__('Changed')}>
            {outcome.changed.map(c => (
              <li key={c.name}>{changeLine(c)}</li>
            ))}
          </ul>
        </>
      )}
      {outcome && outcome.differences.length > 0 && (
        <ul className="jp-EnvHelper-warnings">
          {outcome.differences.map(d => (
            <li key={d} className="jp-EnvHelper-warning">
              {d}
            </li>
          ))}
        </ul>
      )}
      {job.state === 'succeeded' && outcome && (
        <Readiness
          job={job}
          outcome={outcome}
          canRestart={props.canRestart}
          restart={restart}
          trans={trans}
          onRestart={props.onRestart}
        />
      )}
    </div>
  );
}

function Readiness(props: {
  job: IJob;
  outcome: IJobOutcome;
  canRestart: boolean;
  restart: IRestartState | null;
  trans: Trans;
  onRestart: () => void;
}): JSX.Element {
  const { outcome, restart, trans } = props;
  if (!outcome.restart_needed || restart?.status === 'done') {
    return (
      <div className="jp-EnvHelper-ready">
        {restart?.status === 'done'
          ? trans.__('The kernel restarted: ready to import.')
          : trans.__('Ready to import.')}
      </div>
    );
  }
  return (
    <div className="jp-EnvHelper-restartNeeded">
      <div>{restartWords(props.job, outcome, trans)}</div>
      {props.canRestart ? (
        <button
          className="jp-mod-styled jp-mod-accept jp-EnvHelper-restart"
          disabled={restart?.status === 'restarting'}
          onClick={props.onRestart}
        >
          {restart?.status === 'restarting'
            ? trans.__('Restarting…')
            : trans.__('Restart kernel')}
        </button>
      ) : (
        <div className="jp-EnvHelper-muted">
          {trans.__('Restart the kernel of the notebook that uses it.')}
        </div>
      )}
      {restart?.status === 'error' && restart.error && (
        <div className="jp-EnvHelper-error" role="alert">
          {errorMessage(restart.error, trans)}
        </div>
      )}
    </div>
  );
}
