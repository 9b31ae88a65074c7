import { fireEvent, render, screen } from '@testing-library/react';
import * as React from 'react';

import { SearchView, looksLikeRequirement } from '../components/SearchView';
import { ISearchState } from '../model';
import { trans } from './fixtures/responses';

function state(query: string): ISearchState {
  return {
    query,
    status: 'ready',
    resultQuery: query,
    hits: [],
    note: null,
    error: null
  };
}

function renderBox(query: string) {
  const handlers = {
    onQueryChange: jest.fn(),
    onSubmit: jest.fn(),
    onOpen: jest.fn(),
    onInstall: jest.fn()
  };
  const result = render(
    <SearchView search={state(query)} trans={trans} {...handlers} />
  );
  return { ...result, ...handlers };
}

describe('one box to search', () => {
  it('tells requirements from words', () => {
    expect(looksLikeRequirement('pandas>=2')).toBe(true);
    expect(looksLikeRequirement('numx==1.0 pands')).toBe(true);
    expect(looksLikeRequirement('torch[cuda]')).toBe(true);
    expect(looksLikeRequirement('x @ https://example.org/x.whl')).toBe(true);
    expect(looksLikeRequirement('plot')).toBe(false);
    expect(looksLikeRequirement('read excel files')).toBe(false);
  });

  it('has a single text box and no plan action before anything is typed', () => {
    const { container } = renderBox('');
    expect(container.querySelectorAll('input').length).toBe(1);
    expect(screen.queryByRole('button', { name: /Plan install/ })).toBeNull();
    expect(screen.queryByLabelText('Requirement to install')).toBeNull();
  });

  it('typing searches; the typed text can be planned as it is', () => {
    const { onQueryChange, onInstall, container } = renderBox('pandas>=2');
    fireEvent.change(screen.getByLabelText('Search the package index'), {
      target: { value: 'pandas>=2,<3' }
    });
    expect(onQueryChange).toHaveBeenCalledWith('pandas>=2,<3');
    expect(container.querySelectorAll('input').length).toBe(1);
    const action = screen.getByRole('button', {
      name: 'Plan install of pandas>=2'
    });
    expect(action.textContent).toBe('Plan install of pandas>=2');
    fireEvent.click(action);
    expect(onInstall).toHaveBeenCalledWith('pandas>=2');
  });

  it('Enter plans a requirement with a specifier', () => {
    const { onInstall, onSubmit } = renderBox('  pandas>=2 ');
    fireEvent.submit(screen.getByRole('search'));
    expect(onInstall).toHaveBeenCalledWith('pandas>=2');
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it('Enter on plain words searches now, and plans nothing', () => {
    const { onInstall, onSubmit } = renderBox('plot');
    fireEvent.submit(screen.getByRole('search'));
    expect(onSubmit).toHaveBeenCalled();
    expect(onInstall).not.toHaveBeenCalled();
    // the action is still one click away for a plain name
    fireEvent.click(
      screen.getByRole('button', { name: 'Plan install of plot' })
    );
    expect(onInstall).toHaveBeenCalledWith('plot');
  });

  it('without install (read-only), Enter only searches', () => {
    const onSubmit = jest.fn();
    render(
      <SearchView
        search={state('pandas>=2')}
        trans={trans}
        onQueryChange={jest.fn()}
        onSubmit={onSubmit}
        onOpen={jest.fn()}
      />
    );
    expect(screen.queryByRole('button', { name: /Plan install/ })).toBeNull();
    fireEvent.submit(screen.getByRole('search'));
    expect(onSubmit).toHaveBeenCalled();
  });
});
