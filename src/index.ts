import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IConsoleTracker } from '@jupyterlab/console';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

// The sidebar panel exists from the start (its tab is visible), so these
// are needed at activation; the panel's data loads later, without awaiting.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { EnvHelperAPI } from './api';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { ChangesModel } from './changes';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { EnvHelperModel } from './model';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { announceJob } from './notifications';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { EnvHelperPanel } from './panel';
import { ActiveSessionFollower, ISessionWidgetTracker } from './tracking';

/**
 * Command ids.
 */
export namespace CommandIDs {
  export const show = 'envhelper:show';
  export const refresh = 'envhelper:refresh';
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-envhelper:plugin',
  description: 'Shows the environment of the active kernel.',
  autoStart: true,
  optional: [
    INotebookTracker,
    IConsoleTracker,
    ILabShell,
    ILayoutRestorer,
    ICommandPalette,
    ITranslator
  ],
  activate: (
    app: JupyterFrontEnd,
    notebooks: INotebookTracker | null,
    consoles: IConsoleTracker | null,
    labShell: ILabShell | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ) => {
    const trans = (translator ?? nullTranslator).load('jupyter_envhelper');
    const api = new EnvHelperAPI();
    const model = new EnvHelperModel({ api });
    const changes = new ChangesModel({ api, host: model });
    changes.jobStarted.connect((_, job) => {
      announceJob(job, trans, shown => {
        changes.showJob(shown.id);
        app.shell.activateById(panel.id);
      });
    });
    const panel = new EnvHelperPanel({
      model,
      changes,
      trans,
      translator: translator ?? undefined
    });
    app.shell.add(panel, 'left', { rank: 900 });
    restorer?.add(panel, 'jupyter-envhelper');

    const trackers = [notebooks, consoles].filter(
      t => t !== null
    ) as unknown as ISessionWidgetTracker[];
    const follower = new ActiveSessionFollower({
      trackers,
      shell: labShell ?? app.shell,
      onChange: widget => model.setSource(widget?.sessionContext ?? null)
    });
    panel.disposed.connect(() => follower.dispose());

    app.commands.addCommand(CommandIDs.show, {
      label: trans.__('Show Environment Helper'),
      caption: trans.__(
        "Show the environment of the active notebook's or console's kernel"
      ),
      describedBy: { args: { type: 'object', properties: {} } },
      execute: () => {
        app.shell.activateById(panel.id);
      }
    });
    app.commands.addCommand(CommandIDs.refresh, {
      label: trans.__('Refresh Environment Helper'),
      describedBy: { args: { type: 'object', properties: {} } },
      execute: () => model.refresh()
    });
    palette?.addItem({
      command: CommandIDs.show,
      category: trans.__('Environment Helper')
    });
    palette?.addItem({
      command: CommandIDs.refresh,
      category: trans.__('Environment Helper')
    });
  }
};

export default plugin;
