import { render } from '@testing-library/react';
import * as React from 'react';

import { EnvironmentView } from '../components/EnvironmentView';
import { IKernelTarget } from '../model';
import { environmentResponse, trans } from './fixtures/responses';

const kernel: IKernelTarget = {
  displayName: 'Remote Python',
  specName: 'remote-py',
  kernelId: 'k-9',
  status: 'idle'
};

function shown(remote: boolean | undefined): Element | null {
  const response = environmentResponse();
  response.kernel = { ...response.kernel, remote };
  const { container } = render(
    <EnvironmentView
      kernel={kernel}
      state={{ status: 'ready', response, error: null }}
      trans={trans}
      onRefresh={() => undefined}
    />
  );
  return container.querySelector('.jp-EnvHelper-remote');
}

describe('a remote kernel', () => {
  it('is marked "remote kernel" when the server says so', () => {
    expect(shown(true)?.textContent).toBe('remote kernel');
  });

  it('is not marked otherwise', () => {
    expect(shown(false)).toBeNull();
    expect(shown(undefined)).toBeNull();
  });
});
