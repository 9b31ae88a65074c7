import { act, fireEvent, render, screen } from '@testing-library/react';
import * as React from 'react';

import { EnvHelperView } from '../components/EnvHelperView';
import { EnvironmentView } from '../components/EnvironmentView';
import { PackageDetails } from '../components/PackageDetails';
import { SearchView } from '../components/SearchView';
import { EnvHelperModel, IEnvironmentState, IKernelTarget } from '../model';
import { EnvHelperAPIError } from '../request';
import { FakeAPI, FakeSession, flush } from './fixtures/fakes';
import {
  environmentResponse,
  packageDetails,
  searchResponse,
  trans
} from './fixtures/responses';

const kernel: IKernelTarget = {
  displayName: 'Python 3 (ipykernel)',
  specName: 'python3',
  kernelId: 'k-1',
  status: 'idle'
};

function renderEnvironment(state: IEnvironmentState, k = kernel) {
  return render(
    <EnvironmentView
      kernel={k}
      state={state}
      trans={trans}
      onRefresh={() => undefined}
    />
  );
}

describe('EnvironmentView', () => {
  it('asks for a notebook when there is none', () => {
    renderEnvironment({ status: 'empty', response: null, error: null }, null!);
    expect(
      screen.getByText(
        "Open a notebook or console to see its kernel's environment"
      )
    ).toBeTruthy();
  });

  it('shows loading', () => {
    const { container } = renderEnvironment({
      status: 'loading',
      response: null,
      error: null
    });
    expect(container.querySelector('[aria-busy="true"]')?.textContent).toBe(
      'Reading the environment of Python 3 (ipykernel)…'
    );
  });

  it('shows Python, environment, packages and GPU', () => {
    const { container } = renderEnvironment({
      status: 'ready',
      response: environmentResponse(),
      error: null
    });
    expect(
      container.querySelector('.jp-EnvHelper-pythonVersion')?.textContent
    ).toBe('3.11.7');
    expect(screen.getByText('virtual environment (venv)')).toBeTruthy();
    expect(screen.getByText('/srv/venv')).toBeTruthy();
    expect(screen.getByText('3 packages')).toBeTruthy();
    expect(
      screen.getByText('NVIDIA driver 535.104, CUDA ≤ 12.2, 1× A100 (sm_80)')
    ).toBeTruthy();
    expect(container.querySelector('.jp-EnvHelper-warnings')).toBeNull();
  });

  it("says where packages come from, by the kernel's own configuration", () => {
    const response = environmentResponse();
    const words =
      'Packages come from PyPI and a local wheel folder (/opt/wheels); capped by ' +
      'a constraints file (torch<=2.14.1) set in the global pip configuration ' +
      '(/etc/xdg/pip/pip.conf).';
    response.environment!.installer_config = { summary: words };
    const { container } = renderEnvironment({
      status: 'ready',
      response,
      error: null
    });
    expect(container.querySelector('.jp-EnvHelper-sources')?.textContent).toBe(
      words
    );
    const plain = renderEnvironment({
      status: 'ready',
      response: environmentResponse(),
      error: null
    });
    expect(plain.container.querySelector('.jp-EnvHelper-sources')).toBeNull();
  });

  it('lists warnings', () => {
    const response = environmentResponse();
    response.environment!.writable = false;
    renderEnvironment({ status: 'ready', response, error: null });
    expect(
      screen.getByText(
        'You cannot write to /srv/venv: installing here needs other permissions.'
      )
    ).toBeTruthy();
  });

  it('explains a non-Python kernel', () => {
    const response = environmentResponse({
      state: 'not-python',
      environment: null
    });
    response.kernel.language = 'R';
    renderEnvironment({ status: 'ready', response, error: null });
    expect(
      screen.getByText(
        'This kernel runs R, not Python: there is no Python environment to show.'
      )
    ).toBeTruthy();
  });

  it('gives the reason of a failed probe and hides the detail until asked', () => {
    const response = environmentResponse({
      state: 'probe-failed',
      reason: 'The interpreter exited with status 1.',
      detail: 'Traceback (most recent call last): ...',
      environment: null
    });
    const { container } = renderEnvironment({
      status: 'ready',
      response,
      error: null
    });
    expect(
      screen.getByText("This kernel's environment could not be read.")
    ).toBeTruthy();
    expect(
      screen.getByText('The interpreter exited with status 1.')
    ).toBeTruthy();
    const details = container.querySelector('details');
    expect(details).not.toBeNull();
    expect(details!.open).toBe(false);
    expect(details!.querySelector('pre')?.textContent).toMatch(/^Traceback/);
  });

  it('says the server extension is not enabled, with a retry', () => {
    const onRefresh = jest.fn();
    render(
      <EnvironmentView
        kernel={kernel}
        state={{
          status: 'error',
          response: null,
          error: new EnvHelperAPIError({
            kind: 'not-enabled',
            status: 404,
            message: 'x'
          })
        }}
        trans={trans}
        onRefresh={onRefresh}
      />
    );
    expect(screen.getByRole('alert').textContent).toMatch(
      /server extension is not enabled/
    );
    fireEvent.click(screen.getByText('Try again'));
    expect(onRefresh).toHaveBeenCalledTimes(1);
  });
});

describe('SearchView', () => {
  it('shows results with installed badge and a prominent typosquat warning', () => {
    const onOpen = jest.fn();
    render(
      <SearchView
        search={{
          query: 'reqeusts',
          status: 'ready',
          resultQuery: 'reqeusts',
          hits: searchResponse('reqeusts').hits,
          note: null,
          error: null
        }}
        trans={trans}
        onQueryChange={() => undefined}
        onSubmit={() => undefined}
        onOpen={onOpen}
      />
    );
    expect(screen.getByText('installed 2.32.3')).toBeTruthy();
    expect(screen.getByText('similar name')).toBeTruthy();
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toMatch(/^Did you mean requests\?/);

    fireEvent.click(screen.getByText('Did you mean requests?'));
    expect(onOpen).toHaveBeenCalledWith('requests');
  });

  it('says when nothing matched', () => {
    render(
      <SearchView
        search={{
          query: 'zzz',
          status: 'ready',
          resultQuery: 'zzz',
          hits: [],
          note: null,
          error: null
        }}
        trans={trans}
        onQueryChange={() => undefined}
        onSubmit={() => undefined}
        onOpen={() => undefined}
      />
    );
    expect(screen.getByText('No package matches "zzz".')).toBeTruthy();
  });
});

describe('PackageDetails', () => {
  it('shows fit, unknown vulnerabilities, yanked versions and per-file fit', () => {
    const onBack = jest.fn();
    const { container } = render(
      <PackageDetails
        state={{
          name: 'pandas',
          status: 'ready',
          details: packageDetails(),
          error: null
        }}
        trans={trans}
        onBack={onBack}
      />
    );
    expect(
      screen.getByText(
        'Version 2.2.3 fits this kernel (Python 3.11, manylinux x86_64)'
      )
    ).toBeTruthy();
    expect(
      container.querySelector('.jp-EnvHelper-vulnerabilities')?.textContent
    ).toMatch(/^Unknown/);
    expect(screen.getByText('yanked')).toBeTruthy();
    // Only web links become links.
    const links = Array.from(container.querySelectorAll('a')).map(a =>
      a.getAttribute('href')
    );
    expect(links).toEqual(['https://pandas.pydata.org']);

    expect(screen.queryByText(/win_amd64/)).toBeNull();
    fireEvent.click(
      screen.getByText('2.2.3', { selector: '.jp-EnvHelper-version' })
    );
    expect(
      screen.getByText('pandas-2.2.3-cp311-cp311-win_amd64.whl')
    ).toBeTruthy();
    expect(
      screen.getByText('built for Windows, this kernel runs on Linux')
    ).toBeTruthy();
    expect(screen.getByText('11.6 MB', { exact: false })).toBeTruthy();

    fireEvent.click(screen.getByText('← Back'));
    expect(onBack).toHaveBeenCalled();
  });

  it("says whether torch's build runs on this machine's GPU", () => {
    render(
      <PackageDetails
        state={{
          name: 'torch',
          status: 'ready',
          details: packageDetails({
            name: 'torch',
            gpu: {
              machine:
                'NVIDIA driver 570.86, CUDA ≤ 12.8, 1× GeForce GTX 1080 (sm_61)',
              verdict: 'blocker',
              message:
                'torch 2.9.1 has GPU code for compute capability 7.0, ... only.',
              recommended: {
                backend: 'cu126',
                requirement: 'torch==2.9.1+cu126',
                index_url: 'https://download.pytorch.org/whl/cu126/'
              }
            }
          }),
          error: null
        }}
        trans={trans}
        onBack={() => undefined}
      />
    );
    const gpu = screen.getByLabelText('GPU');
    expect(gpu.textContent).toContain('GTX 1080 (sm_61)');
    expect(gpu.textContent).toContain('7.0, ... only.');
    expect(gpu.className).toMatch(/severity-blocker/);
  });

  it('says when no version fits', () => {
    render(
      <PackageDetails
        state={{
          name: 'pandas',
          status: 'ready',
          details: packageDetails({
            fit: {
              version: null,
              message: 'No version fits Python 3.8; newest that fits: 2.0.3'
            },
            vulnerabilities: []
          }),
          error: null
        }}
        trans={trans}
        onBack={() => undefined}
      />
    );
    const status = screen.getByRole('status');
    expect(status.textContent).toBe(
      'No version fits Python 3.8; newest that fits: 2.0.3'
    );
    expect(status.className).toMatch(/incompatible/);
    expect(screen.getByText('None known to the package index.')).toBeTruthy();
  });
});

/**
 * Renders the whole view and re-renders on model changes, as the panel does.
 */
function Live(props: { model: EnvHelperModel }): JSX.Element {
  const [, setTick] = React.useState(0);
  React.useEffect(() => {
    const bump = () => setTick(t => t + 1);
    props.model.stateChanged.connect(bump);
    return () => {
      props.model.stateChanged.disconnect(bump);
    };
  }, [props.model]);
  return <EnvHelperView model={props.model} trans={trans} />;
}

describe('EnvHelperView', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('filters installed packages, searches as you type, opens details and goes back', async () => {
    const api = new FakeAPI();
    const model = new EnvHelperModel({ api, idleRefreshMs: 0 });
    render(<Live model={model} />);
    act(() => model.setSource(new FakeSession().asSource));
    await act(async () => {
      api.environmentCalls[0].resolve(environmentResponse());
      await flush();
    });

    // Installed list with badges and filter.
    expect(screen.getByText('Installed (3)')).toBeTruthy();
    expect(screen.getByText('editable')).toBeTruthy();
    expect(screen.getByText('uv')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Filter installed packages'), {
      target: { value: 'ipyk' }
    });
    expect(screen.getByText('1 of 3 shown')).toBeTruthy();
    expect(screen.queryByText('requests')).toBeNull();

    // Search as you type.
    fireEvent.click(screen.getByText('Find packages'));
    const box = screen.getByLabelText('Search the package index');
    fireEvent.change(box, { target: { value: 'req' } });
    fireEvent.change(box, { target: { value: 'reqeusts' } });
    expect(screen.getByText('Searching…')).toBeTruthy();
    act(() => {
      jest.advanceTimersByTime(250);
    });
    expect(api.searchCalls.map(c => c.args[0])).toEqual(['reqeusts']);
    await act(async () => {
      api.searchCalls[0].resolve(searchResponse('reqeusts'));
      await flush();
    });
    expect(screen.getByText('Did you mean requests?')).toBeTruthy();

    // Details and back.
    fireEvent.click(
      screen.getByText('reqeusts', { selector: '.jp-EnvHelper-name' })
    );
    expect(api.detailsCalls[0].args[0]).toBe('reqeusts');
    await act(async () => {
      api.detailsCalls[0].resolve(packageDetails());
      await flush();
    });
    expect(screen.getByText('Versions')).toBeTruthy();
    fireEvent.click(screen.getByText('← Back'));
    expect(
      (screen.getByLabelText('Search the package index') as HTMLInputElement)
        .value
    ).toBe('reqeusts');
    act(() => model.dispose());
  });
});

describe('EnvHelperView without the server extension', () => {
  it('shows only the not-enabled message, no tabs', async () => {
    const api = new FakeAPI();
    const model = new EnvHelperModel({ api, idleRefreshMs: 0 });
    render(<Live model={model} />);
    act(() => model.setSource(new FakeSession().asSource));
    await act(async () => {
      api.environmentCalls[0].reject(
        new EnvHelperAPIError({
          kind: 'not-enabled',
          status: 404,
          message: 'x'
        })
      );
      await flush();
    });
    expect(screen.getByRole('alert').textContent).toMatch(
      /server extension is not enabled/
    );
    expect(screen.queryByRole('tablist')).toBeNull();
    act(() => model.dispose());
  });

  it('says the installed packages are unknown when the probe failed', async () => {
    const api = new FakeAPI();
    const model = new EnvHelperModel({ api, idleRefreshMs: 0 });
    render(<Live model={model} />);
    act(() => model.setSource(new FakeSession().asSource));
    await act(async () => {
      api.environmentCalls[0].resolve(
        environmentResponse({
          state: 'probe-failed',
          reason: 'boom',
          environment: null
        })
      );
      await flush();
    });
    expect(
      screen.getByText('The installed packages of this kernel are not known.')
    ).toBeTruthy();
    expect(screen.getByRole('tab', { name: 'Find packages' })).toBeTruthy();
    act(() => model.dispose());
  });
});
