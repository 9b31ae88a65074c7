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
  const title = toastTitle(job, trans);
  const where = job.kernelName ? ` (${shorten(job.kernelName, 24)})` : '';
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
          shorten(
            firstSentence(
              outcome?.failure?.message ??
                outcome?.message ??
                job.error?.message ??
                trans.__('unknown reason')
            ),
            TOAST_DETAIL
          )
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

/** The longest a toast's title and its reason get: the rest is in the panel. */
export const TOAST_TITLE = 40;
export const TOAST_DETAIL = 80;

/**
 * A job's title short enough for a toast: "Install pandas and 3 more",
 * long names and extras cut with "…" ("Install cuda-toolkit[cublas,…]").
 */
export function toastTitle(job: JobModel, trans: Trans): string {
  const j = job.job;
  const what = j.requirements?.length ? j.requirements : (j.names ?? []);
  if (what.length > 1) {
    // the first name, cut so that "and N more" always shows
    const first = shorten(what[0], 18);
    const rest = trans._n('and %1 more', 'and %1 more', what.length - 1);
    return jobTitle({ ...j, requirements: [`${first} ${rest}`] }, trans);
  }
  if (what.length === 1) {
    return shorten(
      jobTitle({ ...j, requirements: [shorten(what[0], 30)] }, trans),
      TOAST_TITLE
    );
  }
  return shorten(jobTitle(j, trans), TOAST_TITLE);
}

/**
 * `text` (white space folded) cut to `max` characters, ending in "…".
 */
export function shorten(text: string, max: number): string {
  const clean = text.replace(/\s+/g, ' ').trim();
  if (clean.length <= max) {
    return clean;
  }
  return clean.slice(0, Math.max(1, max - 1)).trimEnd() + '…';
}

/**
 * The first sentence of a message (the whole of it when it has one).
 */
export function firstSentence(text: string): string {
  const match = /^(.+?[.!?])(\s|$)/.exec(text.trim());
  return match ? match[1] : text.trim();
}
