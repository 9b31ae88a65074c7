import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IConsoleTracker } from '@jupyterlab/console';
import {
  INotebookTracker,
  NotebookActions,
  NotebookPanel
} from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

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
// The rescue watches every cell execution from the start; its banner is
// made when a cell fails with a missing module.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { RescueBannerView } from './components/RescueBanner';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { IRescueNotebook, RescueController } from './rescue';
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
    ITranslator,
    ISettingRegistry
  ],
  activate: (
    app: JupyterFrontEnd,
    notebooks: INotebookTracker | null,
    consoles: IConsoleTracker | null,
    labShell: ILabShell | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null,
    settingRegistry: ISettingRegistry | null
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

    // Help after "No module named X", unless the setting turns it off.
    let rescueEnabled = true;
    if (settingRegistry) {
      void settingRegistry
        .load(plugin.id)
        .then(settings => {
          const read = () => {
            rescueEnabled = settings.composite.rescue !== false;
          };
          read();
          settings.changed.connect(read);
        })
        .catch(reason => {
          console.warn('jupyter-envhelper: settings not loaded', reason);
        });
    }
    if (notebooks) {
      const rescueHost = (nb: NotebookPanel): IRescueNotebook => ({
        session: nb.sessionContext,
        attach: banner => nb.contentHeader.addWidget(banner),
        rerun: cell => {
          const index = nb.content.widgets.findIndex(c => c === cell);
          if (index < 0 || nb.isDisposed) {
            return;
          }
          nb.content.activeCellIndex = index;
          nb.content.deselectAll();
          void NotebookActions.run(nb.content, nb.sessionContext);
        }
      });
      const rescue = new RescueController({
        api,
        installer: {
          jobStarted: changes.jobStarted,
          openPlan: (session, requirement) => {
            // The panel plans for the notebook it follows: make it this one.
            const nb = notebooks.find(w => w.sessionContext === session);
            if (nb) {
              app.shell.activateById(nb.id);
              model.setSource(nb.sessionContext);
            }
            app.shell.activateById(panel.id);
            return changes.openPlan([requirement]);
          }
        },
        isEnabled: () => rescueEnabled,
        find: notebook => {
          const nb = notebooks.find(w => w.content === notebook);
          return nb ? rescueHost(nb) : null;
        },
        createBanner: rescueModel => {
          const banner = ReactWidget.create(
            React.createElement(RescueBannerView, {
              model: rescueModel,
              trans,
              onHeight: px => {
                // The content header is a BoxPanel: it sizes children by
                // their minimum height.
                if (banner.node.style.minHeight !== `${px}px`) {
                  banner.node.style.minHeight = `${px}px`;
                  banner.parent?.fit();
                }
              }
            })
          );
          banner.addClass('jp-EnvHelper-rescueWidget');
          return banner;
        }
      });
      NotebookActions.executed.connect((_, args) => rescue.handle(args));
      panel.disposed.connect(() => rescue.dispose());
    }

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
