import { render, screen } from '@testing-library/react';
import * as React from 'react';

import { IDistribution } from '../api';
import { InstalledList, usualInstaller } from '../components/InstalledList';
import { JobModel } from '../job';
import {
  TOAST_TITLE,
  announceJob,
  firstSentence,
  shorten,
  toastTitle
} from '../notifications';
import { FakeChangeAPI, job } from './fixtures/changes';
import { trans } from './fixtures/responses';

// JupyterLab's toasts (apputils does not load under jest): what is emitted is kept.
const emitted: string[] = [];
jest.mock('@jupyterlab/apputils', () => ({
  Notification: {
    emit: (message: string) => {
      emitted.push(message);
      return 'toast-1';
    },
    update: (args: { message: string }) => {
      emitted.push(args.message);
      return true;
    }
  }
}));

function dist(name: string, installer: string | null): IDistribution {
  return {
    name,
    version: '1.0',
    summary: `${name} summary`,
    installer,
    editable: false,
    location: '/site-packages'
  } as unknown as IDistribution;
}

describe('installed rows name the installer only when it is not the usual one', () => {
  const rows = [
    dist('numpy', 'pip'),
    dist('pandas', 'pip'),
    dist('six', 'pip'),
    dist('torch', 'conda'),
    dist('local', null)
  ];

  it('finds the usual installer', () => {
    expect(usualInstaller(rows)).toBe('pip');
    expect(usualInstaller([dist('a', null)])).toBeNull();
    expect(
      usualInstaller([dist('a', 'uv'), dist('b', 'uv'), dist('c', 'pip')])
    ).toBe('uv');
  });

  it('shows a badge on the odd row only, the installer in every title', () => {
    render(
      <InstalledList
        distributions={rows}
        total={rows.length}
        filter=""
        trans={trans}
        onFilterChange={jest.fn()}
        onOpen={jest.fn()}
      />
    );
    expect(screen.queryByText('pip')).toBeNull();
    const badge = screen.getByText('conda');
    expect(badge.getAttribute('title')).toBe(
      'Installed by conda (most packages here: pip)'
    );
    const numpy = screen.getByText('numpy').closest('button')!;
    expect(numpy.getAttribute('title')).toBe('numpy summary\nInstalled by pip');
    const local = screen.getByText('local').closest('button')!;
    expect(local.getAttribute('title')).toBe('local summary');
  });
});

describe('toasts stay short: the detail is in the panel', () => {
  it('shortens text and keeps a first sentence', () => {
    expect(shorten('short', 10)).toBe('short');
    expect(shorten('a  b\n c', 10)).toBe('a b c');
    const cut = shorten('x'.repeat(50), 20);
    expect(cut.length).toBe(20);
    expect(cut.endsWith('…')).toBe(true);
    expect(firstSentence('It failed. Look at the log for more.')).toBe(
      'It failed.'
    );
    expect(firstSentence('no stop')).toBe('no stop');
  });

  it('titles a job with many or long requirements in few words', () => {
    const many = new JobModel({
      api: new FakeChangeAPI(),
      job: job({ requirements: ['pandas>=2', 'numpy', 'scipy', 'matplotlib'] })
    });
    expect(toastTitle(many, trans)).toBe('Install pandas>=2 and 3 more');
    const long = new JobModel({
      api: new FakeChangeAPI(),
      job: job({
        requirements: [
          'cuda-toolkit[cublas,cudart,cufft,curand,cusolver,cusparse,nvcc]'
        ]
      })
    });
    const title = toastTitle(long, trans);
    expect(title.length).toBeLessThanOrEqual(TOAST_TITLE);
    expect(title.startsWith('Install cuda-toolkit[')).toBe(true);
    expect(title.endsWith('…')).toBe(true);
  });

  it('the first toast of a job is short however long its kernel and names are', () => {
    const model = new JobModel({
      api: new FakeChangeAPI(),
      job: job({
        state: 'running',
        requirements: [
          'cuda-toolkit[cublas,cudart,cufft,curand,cusolver,cusparse,nvcc]',
          'torch'
        ]
      }),
      kernelName: 'Python 3.12 (my-very-long-project-environment-name)'
    });
    emitted.length = 0;
    const stop = announceJob(model, trans, jest.fn());
    expect(emitted.length).toBe(1);
    const message = emitted[0];
    expect(message.length).toBeLessThanOrEqual(80);
    expect(message).toMatch(
      /^Install cuda-toolkit\[.*and 1 more.*: starting…$/
    );
    // no unbroken run of characters wider than a toast
    expect(Math.max(...message.split(' ').map(w => w.length))).toBeLessThan(30);
    stop();
    model.dispose();
  });
});
