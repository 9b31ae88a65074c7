/**
 * Announce jobs through JupyterLab's notifications, so users hear about an
 * install that finished or failed even when the panel is closed.
 */
import { Notification } from '@jupyterlab/apputils';

import { Trans, jobTitle, phaseLabel } from './describe';
import { JobModel } from './job';

/**
 * Show a job as an in-progress notification, then its success or failure
 * with a "Show details" action.
 *
 * @returns a function that stops following the job
 */
export function announceJob(
  job: JobModel,
  trans: Trans,
  showDetails: (job: JobModel) => void
): () => void {
  const title = jobTitle(job.job, trans);
  const where = job.kernelName ? ` (${job.kernelName})` : '';
  const id = Notification.emit(
    trans.__('%1%2: starting…', title, where),
    'in-progress',
    { autoClose: false }
  );
  let lastPhase = '';
  const onChanged = () => {
    const phase = job.job.progress?.phase ?? '';
    if (!job.finished && phase && phase !== lastPhase) {
      lastPhase = phase;
      Notification.update({
        id,
        message: trans.__('%1%2: %3…', title, where, phaseLabel(phase, trans)),
        type: 'in-progress',
        autoClose: false
      });
    }
  };
  const onEnded = () => {
    const state = job.job.state;
    const outcome = job.job.outcome;
    const actions = [
      {
        label: trans.__('Show details'),
        callback: () => showDetails(job)
      }
    ];
    if (state === 'succeeded') {
      Notification.update({
        id,
        message: outcome?.restart_needed
          ? trans.__('%1%2: done. Restart the kernel to use it.', title, where)
          : trans.__('%1%2: done.', title, where),
        type: 'success',
        autoClose: 8000,
        actions
      });
    } else if (state === 'cancelled') {
      Notification.update({
        id,
        message: trans.__('%1%2: cancelled.', title, where),
        type: 'warning',
        autoClose: 8000,
        actions
      });
    } else {
      Notification.update({
        id,
        message: trans.__(
          '%1%2 failed: %3',
          title,
          where,
          outcome?.failure?.message ??
            outcome?.message ??
            job.error?.message ??
            trans.__('unknown reason')
        ),
        type: 'error',
        autoClose: false,
        actions
      });
    }
    stop();
  };
  const stop = () => {
    job.changed.disconnect(onChanged);
    job.ended.disconnect(onEnded);
  };
  job.changed.connect(onChanged);
  job.ended.connect(onEnded);
  if (job.finished && job.connection === 'done') {
    onEnded();
  }
  return stop;
}
