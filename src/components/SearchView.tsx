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
 * Whether typed text is a requirement rather than words to search for: it has
 * a version specifier, extras, a URL or a marker (`pandas>=2`, `torch[cuda]`).
 */
export function looksLikeRequirement(text: string): boolean {
  return /[<>=!~@;[\]]/.test(text.trim());
}

/**
 * The package search: one box. Typing searches as you type; "Plan install of
 * <what you typed>" (or Enter, when it is a requirement like `pandas>=2`)
 * plans installing it.
 */
export function SearchView(props: ISearchViewProps): JSX.Element {
  const { search, trans } = props;
  const typed = search.query.trim();
  const plan = () => {
    if (typed && props.onInstall) {
      props.onInstall(typed);
    }
  };
  return (
    <div className="jp-EnvHelper-search">
      <form
        className="jp-EnvHelper-searchForm"
        role="search"
        onSubmit={event => {
          event.preventDefault();
          if (props.onInstall && looksLikeRequirement(typed)) {
            plan();
          } else {
            props.onSubmit();
          }
        }}
      >
        <input
          className="jp-mod-styled jp-EnvHelper-searchBox"
          type="search"
          spellCheck={false}
          placeholder={trans.__('Search, or type pandas>=2')}
          aria-label={trans.__('Search the package index')}
          title={trans.__(
            'Type to search. To install, type a requirement like pandas>=2 or several names, then "Plan install".'
          )}
          value={search.query}
          onChange={event => props.onQueryChange(event.target.value)}
        />
        {props.onInstall && typed && (
          <button
            type="button"
            className="jp-mod-styled jp-EnvHelper-planTyped"
            aria-label={trans.__('Plan install of %1', typed)}
            title={trans.__('See what installing %1 would change', typed)}
            onClick={plan}
          >
            {trans.__('Plan install of')}{' '}
            <code className="jp-EnvHelper-planTypedText">{typed}</code>
          </button>
        )}
      </form>
      <SearchResults {...props} />
    </div>
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
