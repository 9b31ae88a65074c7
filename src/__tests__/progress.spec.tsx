import { act, fireEvent, render, screen } from '@testing-library/react';
import * as React from 'react';

import { IJobProgress } from '../api';
import { JobView } from '../components/JobView';
import { elapsedWords, filesProgress } from '../describe';
import { JobModel, progressOf } from '../job';
import { FakeChangeAPI, job } from './fixtures/changes';
import { trans } from './fixtures/responses';

function progress(overrides: Partial<IJobProgress>): IJobProgress {
  return {
    phase: 'downloading',
    fraction: 0.1,
    bytes_done: 0,
    bytes_total: 828_000,
    files_done: 0,
    files_total: 3,
    since: null,
    package: null,
    message: '',
    ...overrides
  };
}

function renderProgress(p: IJobProgress, backend = 'uv') {
  const model = new JobModel({
    api: new FakeChangeAPI(),
    job: job({ state: 'running', progress: p, backend, log_tail: ['$ x'] })
  });
  return render(
    <JobView
      job={model}
      canRestart={false}
      restart={null}
      trans={trans}
      onCancel={jest.fn()}
      onClose={jest.fn()}
      onRestart={jest.fn()}
    />
  );
}

describe('progress that moves', () => {
  afterEach(() => jest.useRealTimers());

  it('counts files and bytes in words', () => {
    expect(filesProgress(2, 5, trans)).toBe('2 of 5 files');
    expect(filesProgress(0, 1, trans)).toBe('0 of 1 file');
    expect(filesProgress(null, 5, trans)).toBe('');
    expect(filesProgress(3, null, trans)).toBe('');
    expect(elapsedWords(8.7, trans)).toBe('8 s');
    expect(elapsedWords(125, trans)).toBe('2 min 05 s');
  });

  it('keeps counts across events that carry only a line', () => {
    const first = progressOf(
      {
        type: 'progress',
        index: 0,
        phase: 'downloading',
        files_done: 1,
        files_total: 3,
        since: 100
      },
      null
    );
    const next = progressOf(
      { type: 'progress', index: 1, line: 'Downloading beta' },
      first
    );
    expect(next.files_done).toBe(1);
    expect(next.files_total).toBe(3);
    expect(next.since).toBe(100);
    const moved = progressOf(
      { type: 'progress', index: 2, files_done: 2 },
      next
    );
    expect(moved.files_done).toBe(2);
  });

  it('nothing counted yet: a moving bar and files, never "0 B of … · 10%"', () => {
    renderProgress(progress({}));
    const bar = screen.getByRole('progressbar');
    expect(bar.className).toContain('jp-mod-indeterminate');
    expect(bar.getAttribute('aria-valuenow')).toBeNull();
    expect(screen.getByText('0 of 3 files')).toBeTruthy();
    expect(screen.queryByText(/0 B of/)).toBeNull();
    expect(screen.queryByText('10%')).toBeNull();
  });

  it('files and bytes counted: a real bar with real numbers', () => {
    renderProgress(
      progress({ files_done: 2, bytes_done: 414_000, fraction: 0.4 })
    );
    const bar = screen.getByRole('progressbar');
    expect(bar.getAttribute('aria-valuenow')).toBe('40');
    expect(bar.getAttribute('aria-valuetext')).toContain('2 of 3 files');
    expect(screen.getByText('2 of 3 files')).toBeTruthy();
    expect(screen.getByText(/414.*of 828/)).toBeTruthy();
  });

  it('a build shows its package and a clock that ticks', () => {
    jest.useFakeTimers();
    const start = Date.now() / 1000;
    renderProgress(
      progress({
        phase: 'building',
        package: 'delta',
        since: start - 5,
        message: 'Building delta from source (this can take minutes).'
      })
    );
    expect(screen.getByText('Building from source')).toBeTruthy();
    expect(screen.getByText('delta')).toBeTruthy();
    expect(screen.getByRole('progressbar').className).toContain(
      'jp-mod-indeterminate'
    );
    const before = screen.getByTitle('Time in this step').textContent;
    expect(before).toMatch(/^[56] s$/);
    act(() => {
      jest.advanceTimersByTime(3000);
    });
    const after = screen.getByTitle('Time in this step').textContent;
    expect(after).not.toBe(before);
    expect(after).toMatch(/^[89] s$/);
  });

  it('names the installer one click away, not in the words', () => {
    renderProgress(
      progress({ message: 'Downloading 3 files (3 packages).' }),
      'uv'
    );
    expect(screen.getByText('Downloading 3 files (3 packages).')).toBeTruthy();
    expect(screen.queryByText('Installer: uv')).toBeNull();
    fireEvent.click(screen.getByText('Show the log'));
    expect(screen.getByText('Installer: uv')).toBeTruthy();
  });
});
