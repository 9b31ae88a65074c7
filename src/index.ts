import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  ISessionContextDialogs,
  Notification,
  SessionContextDialogs,
  showDialog
} from '@jupyterlab/apputils';
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
import { EnvHelperAPI, INotebookCellSource } from './api';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { ChangesModel } from './changes';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { ExportNotes } from './components/ExportControl';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { Exporter } from './exporting';
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
import { IRescueNotebook, RescueController, refOfSession } from './rescue';
// The needs are asked when a notebook opens; the banner is made when its
// kernel lacks something.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { NeedsBannerView } from './components/NeedsBanner';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { INeedsNotebook, NeedsController, recordDependencies } from './needs';
import { toAPIError } from './request';
import { ActiveSessionFollower, ISessionWidgetTracker } from './tracking';

/**
 * Command ids.
 */
export namespace CommandIDs {
  export const show = 'envhelper:show';
  export const refresh = 'envhelper:refresh';
  export const recordNeeds = 'envhelper:record-dependencies';
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
    ISettingRegistry,
    ISessionContextDialogs
  ],
  activate: (
    app: JupyterFrontEnd,
    notebooks: INotebookTracker | null,
    consoles: IConsoleTracker | null,
    labShell: ILabShell | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null,
    settingRegistry: ISettingRegistry | null,
    sessionDialogs: ISessionContextDialogs | null
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
    const exporter = new Exporter({
      api,
      host: model,
      trans,
      notifier: Notification,
      showNotes: (title, notes) =>
        void showDialog({
          title,
          body: React.createElement(ExportNotes, { notes }),
          buttons: [Dialog.okButton({ label: trans.__('Close') })]
        })
    });
    const panel = new EnvHelperPanel({
      model,
      changes,
      exporter,
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
    // The banner of what an opened notebook needs, unless turned off.
    let needsEnabled = true;
    let onNeedsSetting: () => void = () => undefined;
    if (settingRegistry) {
      void settingRegistry
        .load(plugin.id)
        .then(settings => {
          const read = () => {
            rescueEnabled = settings.composite.rescue !== false;
            const needs = settings.composite.needsBanner !== false;
            if (needs !== needsEnabled) {
              needsEnabled = needs;
              onNeedsSetting();
            }
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
          planChanged: changes.plan.changed,
          openPlan: (session, requirement) => {
            // The panel plans for the notebook it follows: make it this one.
            const nb = notebooks.find(w => w.sessionContext === session);
            if (nb) {
              app.shell.activateById(nb.id);
              model.setSource(nb.sessionContext);
            }
            app.shell.activateById(panel.id);
            return changes.openPlan([requirement]);
          },
          openNewEnvironment: (session, request) => {
            const nb = notebooks.find(w => w.sessionContext === session);
            if (nb) {
              app.shell.activateById(nb.id);
              model.setSource(nb.sessionContext);
            }
            app.shell.activateById(panel.id);
            return panel.newEnvironment?.open(request);
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

      const dialogs =
        sessionDialogs ??
        new SessionContextDialogs({ translator: translator ?? undefined });
      const needs = new NeedsController({
        api,
        installer: {
          jobStarted: changes.jobStarted,
          openPlan: (session, requirements) => {
            const nb = notebooks.find(w => w.sessionContext === session);
            if (nb) {
              app.shell.activateById(nb.id);
              model.setSource(nb.sessionContext);
            }
            app.shell.activateById(panel.id);
            return changes.openPlan(requirements);
          }
        },
        isEnabled: () => needsEnabled,
        createBanner: needsModel => {
          const banner = ReactWidget.create(
            React.createElement(NeedsBannerView, {
              model: needsModel,
              trans,
              onHeight: px => {
                if (banner.node.style.minHeight !== `${px}px`) {
                  banner.node.style.minHeight = `${px}px`;
                  banner.parent?.fit();
                }
              }
            })
          );
          banner.addClass('jp-EnvHelper-rescueWidget');
          banner.addClass('jp-EnvHelper-needsWidget');
          return banner;
        }
      });
      onNeedsSetting = () => needs.settingChanged();
      const needsHost = (nb: NotebookPanel): INeedsNotebook => ({
        session: nb.sessionContext,
        cells: () => cellsOf(nb),
        attach: banner => nb.contentHeader.addWidget(banner),
        selectKernel: () => dialogs.selectKernel(nb.sessionContext),
        disposed: nb.disposed
      });
      const watchNeeds = (nb: NotebookPanel) => {
        void nb.context.ready.then(
          () => {
            if (!nb.isDisposed) {
              needs.watch(needsHost(nb));
            }
          },
          () => undefined
        );
      };
      notebooks.forEach(watchNeeds);
      notebooks.widgetAdded.connect((_, nb) => watchNeeds(nb));
      panel.disposed.connect(() => needs.dispose());
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
    app.commands.addCommand(CommandIDs.recordNeeds, {
      label: trans.__("Record this notebook's dependencies"),
      caption: trans.__(
        "Write the packages this notebook needs, at the versions its kernel has now, into a '# /// script' block in its first code cell"
      ),
      describedBy: { args: { type: 'object', properties: {} } },
      isEnabled: () => !!notebooks?.currentWidget,
      execute: async () => {
        const nb = notebooks?.currentWidget;
        if (!nb) {
          return;
        }
        const ref = refOfSession(nb.sessionContext);
        if (!ref.kernelId && !ref.specName) {
          Notification.warning(
            trans.__(
              'The notebook has no kernel: choose one, then record its dependencies.'
            ),
            { autoClose: 5000 }
          );
          return;
        }
        try {
          const { edit, response } = await recordDependencies(api, ref, {
            cells: () => cellsOf(nb),
            setSource: (index, source) =>
              nb.content.model?.sharedModel.cells[index]?.setSource(source),
            insertCodeCell: (index, source) =>
              nb.content.model?.sharedModel.insertCell(index, {
                cell_type: 'code',
                source
              })
          });
          if (nb.content.model) {
            nb.content.model.dirty = true;
          }
          const count = response.needs.filter(n => !n.optional).length;
          Notification.success(
            edit.kind === 'replace'
              ? trans._n(
                  "Updated the '# /// script' block of the first code cell (%1 package). Save the notebook to keep it.",
                  "Updated the '# /// script' block of the first code cell (%1 packages). Save the notebook to keep it.",
                  count
                )
              : trans._n(
                  "Recorded %1 package in a new first cell ('# /// script'). Save the notebook to keep it.",
                  "Recorded %1 packages in a new first cell ('# /// script'). Save the notebook to keep it.",
                  count
                ),
            { autoClose: 5000 }
          );
        } catch (error) {
          const apiError = toAPIError(error);
          Notification.error(
            trans.__(
              "Could not record the notebook's dependencies: %1",
              apiError.message
            ),
            { autoClose: false }
          );
        }
      }
    });
    palette?.addItem({
      command: CommandIDs.recordNeeds,
      category: trans.__('Environment Helper')
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

/**
 * A notebook's cells, as much as the needs are read from.
 */
function cellsOf(nb: NotebookPanel): INotebookCellSource[] {
  const cells = nb.content.model?.sharedModel.cells ?? [];
  return cells.map(cell => ({
    cell_type: cell.cell_type,
    source: cell.getSource()
  }));
}

export default plugin;
