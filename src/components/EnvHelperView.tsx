import * as React from 'react';

import { Trans } from '../describe';
import { EnvHelperModel } from '../model';
import { EnvironmentView } from './EnvironmentView';
import { InstalledList } from './InstalledList';
import { PackageDetails } from './PackageDetails';
import { SearchView } from './SearchView';

export interface IEnvHelperViewProps {
  model: EnvHelperModel;
  trans: Trans;
}

/**
 * The whole panel, rendered from the model's current state.
 *
 * It reads the model and calls its methods; re-rendering on change is the
 * job of the widget that hosts it (`UseSignal` on `model.stateChanged`).
 */
export function EnvHelperView(props: IEnvHelperViewProps): JSX.Element {
  const { model, trans } = props;
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
  return (
    <div className="jp-EnvHelper-view">
      <EnvironmentView
        kernel={model.kernel}
        state={environment}
        trans={trans}
        onRefresh={() => void model.refresh()}
      />
      {details ? (
        <PackageDetails
          state={details}
          trans={trans}
          onBack={() => model.closeDetails()}
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
            </div>
            <div role="tabpanel" className="jp-EnvHelper-tabPanel">
              {model.view === 'search' ? (
                <SearchView
                  search={model.search}
                  trans={trans}
                  onQueryChange={query => model.setQuery(query)}
                  onSubmit={() => void model.searchNow()}
                  onOpen={name => void model.openDetails(name)}
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
                />
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
