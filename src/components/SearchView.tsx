import * as React from 'react';

import { ISearchHit } from '../api';
import { Trans, errorMessage, matchLabel, typosquatDetail } from '../describe';
import { ISearchState } from '../model';

export interface ISearchViewProps {
  search: ISearchState;
  trans: Trans;
  onQueryChange: (query: string) => void;
  onSubmit: () => void;
  onOpen: (name: string) => void;
  /** Plan installing a requirement (a hit's name, or what was typed). */
  onInstall?: (requirement: string) => void;
}

/**
 * The package search: a box that searches as you type, and its results.
 */
export function SearchView(props: ISearchViewProps): JSX.Element {
  const { search, trans } = props;
  return (
    <div className="jp-EnvHelper-search">
      <input
        className="jp-mod-styled jp-EnvHelper-searchBox"
        type="search"
        placeholder={trans.__('Search the package index')}
        aria-label={trans.__('Search the package index')}
        value={search.query}
        onChange={event => props.onQueryChange(event.target.value)}
        onKeyDown={event => {
          if (event.key === 'Enter') {
            props.onSubmit();
          }
        }}
      />
      {props.onInstall && (
        <RequirementBox trans={trans} onInstall={props.onInstall} />
      )}
      <SearchResults {...props} />
    </div>
  );
}

/**
 * "Install…": plan a requirement typed in full, like `pandas>=2`.
 */
function RequirementBox(props: {
  trans: ISearchViewProps['trans'];
  onInstall: (requirement: string) => void;
}): JSX.Element {
  const { trans } = props;
  const [value, setValue] = React.useState('');
  const submit = () => {
    if (value.trim()) {
      props.onInstall(value.trim());
    }
  };
  return (
    <form
      className="jp-EnvHelper-requirementBox"
      onSubmit={event => {
        event.preventDefault();
        submit();
      }}
    >
      <input
        className="jp-mod-styled jp-EnvHelper-requirement"
        type="text"
        spellCheck={false}
        placeholder={trans.__('Install… (e.g. pandas>=2 numpy)')}
        aria-label={trans.__('Requirement to install')}
        value={value}
        onChange={event => setValue(event.target.value)}
      />
      <button
        type="submit"
        className="jp-mod-styled jp-EnvHelper-planButton"
        disabled={!value.trim()}
      >
        {trans.__('Plan')}
      </button>
    </form>
  );
}

function SearchResults(props: ISearchViewProps): JSX.Element | null {
  const { search, trans } = props;
  if (!search.query.trim()) {
    return (
      <div className="jp-EnvHelper-message">
        {trans.__(
          'Type a package name, an import name or what you need (e.g. "plot").'
        )}
      </div>
    );
  }
  if (search.status === 'error' && search.error) {
    return (
      <div className="jp-EnvHelper-error" role="alert">
        {errorMessage(search.error, trans)}
      </div>
    );
  }
  const busy = search.status === 'pending' || search.status === 'loading';
  if (search.hits.length === 0) {
    return (
      <div className="jp-EnvHelper-message" aria-busy={busy}>
        {busy
          ? trans.__('Searching…')
          : trans.__('No package matches "%1".', search.resultQuery)}
      </div>
    );
  }
  return (
    <div aria-busy={busy}>
      {search.note && <div className="jp-EnvHelper-note">{search.note}</div>}
      {busy && (
        <div className="jp-EnvHelper-count">{trans.__('Searching…')}</div>
      )}
      <ul
        className="jp-EnvHelper-list jp-EnvHelper-results"
        aria-label={trans.__('Search results')}
      >
        {search.hits.map(hit => (
          <SearchHit
            key={hit.canonical_name}
            hit={hit}
            trans={trans}
            onOpen={props.onOpen}
            onInstall={props.onInstall}
          />
        ))}
      </ul>
    </div>
  );
}

function SearchHit(props: {
  hit: ISearchHit;
  trans: Trans;
  onOpen: (name: string) => void;
  onInstall?: (requirement: string) => void;
}): JSX.Element {
  const { hit, trans } = props;
  return (
    <li
      className={
        hit.typosquat
          ? 'jp-EnvHelper-hit jp-EnvHelper-mod-typosquat'
          : 'jp-EnvHelper-hit'
      }
    >
      <button
        className="jp-EnvHelper-row jp-EnvHelper-hitRow"
        onClick={() => props.onOpen(hit.name)}
      >
        <span className="jp-EnvHelper-name">{hit.name}</span>
        {hit.version && (
          <span className="jp-EnvHelper-version">{hit.version}</span>
        )}
        {hit.installed_version && (
          <span className="jp-EnvHelper-badge jp-EnvHelper-badge-installed">
            {trans.__('installed %1', hit.installed_version)}
          </span>
        )}
        <span
          className="jp-EnvHelper-badge jp-EnvHelper-badge-match"
          title={hit.why ?? undefined}
        >
          {matchLabel(hit.match, trans)}
        </span>
        {hit.summary && (
          <span className="jp-EnvHelper-summary">{hit.summary}</span>
        )}
      </button>
      {props.onInstall && (
        <button
          className="jp-mod-styled jp-EnvHelper-hitInstall"
          aria-label={trans.__('Install %1', hit.name)}
          title={trans.__('See what installing %1 would do', hit.name)}
          onClick={() => props.onInstall!(hit.name)}
        >
          {hit.installed_version ? trans.__('Change…') : trans.__('Install…')}
        </button>
      )}
      {hit.typosquat && (
        <div className="jp-EnvHelper-typosquat" role="alert">
          <button
            className="jp-EnvHelper-link"
            onClick={() => props.onOpen(hit.typosquat!.suggestion)}
          >
            {trans.__('Did you mean %1?', hit.typosquat.suggestion)}
          </button>
          <div>{typosquatDetail(hit.typosquat)}</div>
        </div>
      )}
    </li>
  );
}
