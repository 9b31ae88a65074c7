import * as React from 'react';

import { ExportFormat, IExportRequest } from '../api';
import { Trans } from '../describe';
import { canOnlyRequest, exportFormatLabel, exportFormats } from '../exporting';

export interface IExportControlProps {
  /** The environment's kind: `environment-yml` is offered for conda only. */
  kind: string;
  trans: Trans;
  /** Export and save; resolves when done (the notification tells how). */
  onExport: (request: IExportRequest) => Promise<unknown>;
}

/**
 * "Export…": a format, "Only what was asked for", and a button that saves
 * the file.
 */
export function ExportControl(props: IExportControlProps): JSX.Element {
  const { kind, trans, onExport } = props;
  const [open, setOpen] = React.useState(false);
  const [chosen, setChosen] = React.useState<ExportFormat>('requirements');
  const [onlyRequested, setOnlyRequested] = React.useState(false);
  const [busy, setBusy] = React.useState(false);
  const formats = exportFormats(kind);
  // A choice the environment no longer offers (another kernel) falls back.
  const format = formats.includes(chosen) ? chosen : formats[0];
  const onlyApplies = canOnlyRequest(format);

  if (!open) {
    return (
      <button
        className="jp-mod-styled jp-EnvHelper-exportOpen"
        title={trans.__("Save this environment's packages as a file")}
        onClick={() => setOpen(true)}
      >
        {trans.__('Export…')}
      </button>
    );
  }
  const run = () => {
    setBusy(true);
    void onExport({
      format,
      only_requested: onlyApplies && onlyRequested
    })
      .then(
        () => setOpen(false),
        () => undefined
      )
      .finally(() => setBusy(false));
  };
  return (
    <div
      className="jp-EnvHelper-export"
      role="group"
      aria-label={trans.__('Export')}
    >
      <select
        className="jp-EnvHelper-exportFormat"
        aria-label={trans.__('Export format')}
        value={format}
        disabled={busy}
        onChange={event => setChosen(event.target.value as ExportFormat)}
      >
        {formats.map(f => (
          <option key={f} value={f}>
            {exportFormatLabel(f, trans)}
          </option>
        ))}
      </select>
      <label
        className="jp-EnvHelper-exportOnly"
        title={
          onlyApplies
            ? trans.__(
                'Only the packages that were installed on request, not their dependencies'
              )
            : trans.__('A lock file lists every package, dependencies included')
        }
      >
        <input
          type="checkbox"
          checked={onlyApplies && onlyRequested}
          disabled={busy || !onlyApplies}
          onChange={event => setOnlyRequested(event.target.checked)}
        />
        {trans.__('Only what was asked for')}
      </label>
      <div className="jp-EnvHelper-exportButtons">
        <button
          className="jp-mod-styled jp-mod-accept jp-EnvHelper-exportRun"
          disabled={busy}
          aria-busy={busy}
          onClick={run}
        >
          {busy ? trans.__('Exporting…') : trans.__('Export')}
        </button>
        <button
          className="jp-mod-styled jp-mod-reject jp-EnvHelper-exportCancel"
          disabled={busy}
          onClick={() => setOpen(false)}
        >
          {trans.__('Cancel')}
        </button>
      </div>
    </div>
  );
}

/**
 * What an index cannot reproduce, one note a line ("Show details").
 */
export function ExportNotes(props: { notes: string[] }): JSX.Element {
  return (
    <ul className="jp-EnvHelper-exportNotes">
      {props.notes.map(note => (
        <li key={note}>{note}</li>
      ))}
    </ul>
  );
}
