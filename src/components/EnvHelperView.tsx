import * as React from 'react';

import { ChangesModel } from '../changes';
import type { CurrencyModel } from '../currency';
import { Trans } from '../describe';
import type { Exporter } from '../exporting';
import { EnvHelperModel } from '../model';
import { EnvironmentView } from './EnvironmentView';
import { HistoryView } from './HistoryView';
import { InstalledList } from './InstalledList';
import { DependencyGraph } from './DependencyGraph';
import { JobView } from './JobView';
import { OutdatedView } from './OutdatedView';
import { splitRequirements } from '../plan';
import { PackageDetails } from './PackageDetails';
import { PlanView } from './PlanView';
import { NewEnvironmentModel, newEnvironmentOf } from '../newenv';
import { NewEnvironmentView } from './NewEnvironment';
import { SearchView } from './SearchView';

export interface IEnvHelperViewProps {
  model: EnvHelperModel;
  /** Plan, install, history; without it the panel only shows. */
  changes?: ChangesModel;
  /** "Export…" in the environment header; without it, no export. */
  exporter?: Exporter;
  /** Outdated packages, the graph and update plans; without it, none. */
  currency?: CurrencyModel;
  /** A new environment and kernel when none fits (newenv.ts); without it, none. */
  newEnvironment?: NewEnvironmentModel;
  trans: Trans;
}

/**
 * The whole panel, rendered from the model's current state.
 *
 * It reads the model and calls its methods; re-rendering on change is the
 * job of the widget that hosts it (`UseSignal` on `model.stateChanged`).
 */
export function EnvHelperView(props: IEnvHelperViewProps): JSX.Element {
  const { model, changes, exporter, currency, newEnvironment, trans } = props;
  const environment = model.environment;
  const details = model.details;
  const hasEnvironment =
    environment.status === 'ready' &&
    environment.response?.environment !== null &&
    environment.response?.environment !== undefined;
  // Without the server extension there is nothing to search either.
  const canSearch =
    model.kernel !== null &&
    !(environment.status === 'error' && environment.error?.notEnabled);
  const canChange = !!changes && hasEnvironment && model.kernel !== null;
  const onInstall = canChange
    ? (requirement: string) =>
        void changes!.openPlan(splitRequirements(requirement))
    : undefined;
  const job = changes?.job ?? null;
  const plan = changes?.plan.state ?? null;
  const updatePlan = currency?.plan ?? null;
  const openHistory = () => {
    model.view = 'history';
    void changes?.history.load();
  };
  return (
    <div className="jp-EnvHelper-view">
      <EnvironmentView
        kernel={model.kernel}
        state={environment}
        trans={trans}
        onRefresh={() => void model.refresh()}
        onExport={
          exporter && hasEnvironment && model.kernel !== null
            ? request => exporter.run(request)
            : undefined
        }
        onEnableMagic={
          canChange
            ? () => {
                if (changes!.job?.finished) {
                  changes!.closeJob();
                }
                void changes!.plan.openEnableMagic();
              }
            : undefined
        }
      />
      {newEnvironment?.state ? (
        <NewEnvironmentView model={newEnvironment} trans={trans} />
      ) : job && changes ? (
        <JobView
          job={job}
          canRestart={changes.followsKernelOf(job)}
          restart={changes.restart}
          trans={trans}
          onCancel={() => void job.cancel()}
          onClose={() => changes.closeJob()}
          onRestart={() => void changes.restartKernelFor(job)}
        />
      ) : updatePlan && currency ? (
        <PlanView
          state={updatePlan}
          canInstall={currency.canInstall}
          currentKernel={model.kernel?.specName ?? null}
          trans={trans}
          onInstall={() => void currency.confirm()}
          onClose={() => currency.closePlan()}
          onReplan={() => void currency.replan()}
          onAction={() => undefined}
        />
      ) : plan && changes ? (
        <PlanView
          state={plan}
          canInstall={changes.plan.canInstall}
          currentKernel={model.kernel?.specName ?? null}
          trans={trans}
          onInstall={() => void changes.confirm()}
          onClose={() => changes.plan.close()}
          onReplan={() => void changes.plan.replan()}
          onAction={action => {
            const wanted = newEnvironment ? newEnvironmentOf(action) : null;
            if (wanted) {
              void newEnvironment!.open(wanted);
            } else {
              void changes.plan.runAction(action);
            }
          }}
        />
      ) : details ? (
        <PackageDetails
          state={details}
          trans={trans}
          onBack={() => model.closeDetails()}
          onInstall={onInstall}
        />
      ) : (
        canSearch && (
          <>
            <div
              className="jp-EnvHelper-tabs"
              role="tablist"
              aria-label={trans.__('Packages')}
            >
              <button
                role="tab"
                aria-selected={model.view === 'installed'}
                className={tabClass(model.view === 'installed')}
                onClick={() => (model.view = 'installed')}
              >
                {hasEnvironment
                  ? trans.__(
                      'Installed (%1)',
                      environment.response!.environment!.distributions.length
                    )
                  : trans.__('Installed')}
              </button>
              <button
                role="tab"
                aria-selected={model.view === 'search'}
                className={tabClass(model.view === 'search')}
                onClick={() => (model.view = 'search')}
              >
                {trans.__('Find packages')}
              </button>
              {changes && (
                <button
                  role="tab"
                  aria-selected={model.view === 'history'}
                  className={tabClass(model.view === 'history')}
                  onClick={openHistory}
                >
                  {trans.__('History')}
                </button>
              )}
            </div>
            <div role="tabpanel" className="jp-EnvHelper-tabPanel">
              {model.view === 'history' && changes ? (
                <HistoryView
                  state={changes.history.state}
                  trans={trans}
                  onUndo={jobId => void changes.undo(jobId)}
                  onPreviewUndo={jobId =>
                    void changes.history.previewUndo(jobId)
                  }
                  onCancelUndo={() => changes.history.cancelUndo()}
                  onRetry={() => void changes.history.load()}
                />
              ) : model.view === 'search' ? (
                <SearchView
                  search={model.search}
                  trans={trans}
                  onQueryChange={query => model.setQuery(query)}
                  onSubmit={() => void model.searchNow()}
                  onOpen={name => void model.openDetails(name)}
                  onInstall={onInstall}
                />
              ) : hasEnvironment ? (
                <InstalledList
                  distributions={model.filteredDistributions}
                  total={
                    environment.response!.environment!.distributions.length
                  }
                  filter={model.installedFilter}
                  trans={trans}
                  onFilterChange={filter => (model.installedFilter = filter)}
                  onOpen={name => void model.openDetails(name)}
                  onUninstall={
                    canChange
                      ? name => void changes!.uninstall([name])
                      : undefined
                  }
                  uninstalling={
                    changes?.history.state.pending !== null && !!changes
                  }
                  mode={currency?.mode}
                  onModeChange={
                    currency ? mode => (currency.mode = mode) : undefined
                  }
                >
                  {currency?.mode === 'outdated' ? (
                    <OutdatedView
                      currency={currency}
                      trans={trans}
                      canChange={canChange}
                      onOpen={name => void model.openDetails(name)}
                    />
                  ) : currency?.mode === 'graph' ? (
                    <DependencyGraph
                      currency={currency}
                      trans={trans}
                      onOpen={name => void model.openDetails(name)}
                    />
                  ) : null}
                </InstalledList>
              ) : environment.status === 'ready' ||
                environment.status === 'error' ? (
                <div className="jp-EnvHelper-message">
                  {trans.__(
                    'The installed packages of this kernel are not known.'
                  )}
                </div>
              ) : null}
            </div>
          </>
        )
      )}
    </div>
  );
}

function tabClass(selected: boolean): string {
  return selected ? 'jp-EnvHelper-tab jp-mod-selected' : 'jp-EnvHelper-tab';
}
