/**
 * "Export…" from the panel: fetch the followed kernel's environment written
 * down, save it as a file and say so through a notification.
 */
import {
  ExportFormat,
  IExportAPI,
  IExportRequest,
  IExportResponse
} from './api';
import { Trans, errorMessage } from './describe';
import { refOf } from './history';
import { IKernelHost } from './plan';
import { toAPIError } from './request';

/**
 * A button of a notification.
 */
export interface INotificationAction {
  label: string;
  callback: () => void;
}

/**
 * As much of JupyterLab's `Notification` as the export uses (tests hand it
 * a fake).
 */
export interface IExportNotifier {
  emit(
    message: string,
    type: 'in-progress',
    options: { autoClose: false }
  ): string;
  update(args: {
    id: string;
    message: string;
    type: 'success' | 'error';
    autoClose: number | false;
    actions?: INotificationAction[];
  }): boolean;
}

/**
 * Longer notification messages are cut by JupyterLab.
 */
const MAX_MESSAGE_LENGTH = 140;

/**
 * The formats offered; `environment-yml` only for conda environments.
 */
export function exportFormats(kind: string): ExportFormat[] {
  return kind === 'conda'
    ? ['requirements', 'pylock', 'environment-yml']
    : ['requirements', 'pylock'];
}

/**
 * A format in words, with the file it makes.
 */
export function exportFormatLabel(format: ExportFormat, trans: Trans): string {
  switch (format) {
    case 'requirements':
      return trans.__('requirements.txt (pins with hashes)');
    case 'pylock':
      return trans.__('pylock.toml (a PEP 751 lock file)');
    case 'environment-yml':
      return trans.__('environment.yml (conda)');
  }
}

/**
 * Whether "Only what was asked for" applies to a format (a lock file lists
 * every package).
 */
export function canOnlyRequest(format: ExportFormat): boolean {
  return format !== 'pylock';
}

/**
 * Save text as a file: a Blob behind an `<a download>` click.
 */
export function downloadText(filename: string, content: string): void {
  const blob = new Blob([content], { type: 'text/plain;charset=utf-8' });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.appendChild(link);
  try {
    link.click();
  } finally {
    link.remove();
    // Let the browser start the download before the URL goes (the function is taken
    // now: whoever replaced it for a moment must not decide whether it runs later).
    const revoke = URL.revokeObjectURL.bind(URL);
    setTimeout(() => revoke(url), 0);
  }
}

/**
 * The success message: how many packages went where, and what an index
 * cannot reproduce when that fits.
 */
export function exportedMessage(
  response: IExportResponse,
  trans: Trans
): string {
  const done = trans._n(
    'Exported %1 package to %2.',
    'Exported %1 packages to %2.',
    response.packages,
    response.filename
  );
  const notes = response.notes ?? [];
  if (notes.length === 0) {
    return done;
  }
  const full = trans.__(
    '%1 Not reproducible from an index: %2',
    done,
    notes.join('; ')
  );
  if (full.length <= MAX_MESSAGE_LENGTH) {
    return full;
  }
  return trans._n(
    '%2 %1 is not reproducible from an index.',
    '%2 %1 are not reproducible from an index.',
    notes.length,
    done
  );
}

/**
 * Runs exports for the kernel the panel follows.
 */
export class Exporter {
  constructor(options: Exporter.IOptions) {
    this._api = options.api;
    this._host = options.host;
    this._trans = options.trans;
    this._notifier = options.notifier;
    this._download = options.download ?? downloadText;
    this._showNotes = options.showNotes ?? null;
  }

  /**
   * Export the followed kernel's environment and save it.
   *
   * @returns whether a file was saved
   */
  async run(request: IExportRequest): Promise<boolean> {
    const trans = this._trans;
    const ref = refOf(this._host);
    const where = this._host.kernel?.displayName;
    const id = this._notifier.emit(
      where
        ? trans.__('Exporting the environment of %1…', where)
        : trans.__('Exporting the environment…'),
      'in-progress',
      { autoClose: false }
    );
    let response: IExportResponse;
    try {
      response = await this._api.export(ref, {
        format: request.format,
        only_requested:
          canOnlyRequest(request.format) && !!request.only_requested
      });
      this._download(response.filename, response.content);
    } catch (error) {
      this._notifier.update({
        id,
        message: errorMessage(toAPIError(error), trans),
        type: 'error',
        autoClose: false
      });
      return false;
    }
    const notes = response.notes ?? [];
    const showNotes = this._showNotes;
    this._notifier.update({
      id,
      message: exportedMessage(response, trans),
      type: 'success',
      autoClose: notes.length ? false : 5000,
      actions:
        notes.length && showNotes
          ? [
              {
                label: trans.__('Show details'),
                callback: () =>
                  showNotes(
                    trans.__(
                      'Not reproducible from an index (%1)',
                      response.filename
                    ),
                    notes
                  )
              }
            ]
          : undefined
    });
    return true;
  }

  private _api: IExportAPI;
  private _host: IKernelHost;
  private _trans: Trans;
  private _notifier: IExportNotifier;
  private _download: (filename: string, content: string) => void;
  private _showNotes: ((title: string, notes: string[]) => void) | null;
}

export namespace Exporter {
  export interface IOptions {
    api: IExportAPI;
    /** The panel's model: the kernel it follows. */
    host: IKernelHost;
    trans: Trans;
    notifier: IExportNotifier;
    /** Save the file (default: `downloadText`). */
    download?: (filename: string, content: string) => void;
    /** Show the notes in full ("Show details"). */
    showNotes?: (title: string, notes: string[]) => void;
  }
}
