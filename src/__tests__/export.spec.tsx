import { act, fireEvent, render, screen } from '@testing-library/react';
import * as React from 'react';

import {
  IExportAPI,
  IExportRequest,
  IExportResponse,
  IKernelRef
} from '../api';
import { EnvHelperView } from '../components/EnvHelperView';
import { EnvironmentView } from '../components/EnvironmentView';
import { ExportNotes } from '../components/ExportControl';
import {
  Exporter,
  IExportNotifier,
  INotificationAction,
  downloadText,
  exportedMessage
} from '../exporting';
import { EnvHelperModel, IKernelTarget } from '../model';
import { EnvHelperAPIError } from '../request';
import { FakeAPI, FakeSession, flush } from './fixtures/fakes';
import { environmentResponse, trans } from './fixtures/responses';

const kernel: IKernelTarget = {
  displayName: 'Python 3 (ipykernel)',
  specName: 'python3',
  kernelId: 'k-1',
  status: 'idle'
};

function exportResponse(
  overrides: Partial<IExportResponse> = {}
): IExportResponse {
  return {
    schema: 1,
    kernel: environmentResponse().kernel,
    format: 'pylock',
    filename: 'pylock.toml',
    content: 'lock-version = "1.0"\ncreated-by = "jupyter-envhelper"\n',
    packages: 12,
    notes: [],
    ...overrides
  };
}

/**
 * An export API whose answers the test gives.
 */
class FakeExportAPI implements IExportAPI {
  calls: {
    ref: IKernelRef;
    request: IExportRequest;
    resolve: (value: IExportResponse) => void;
    reject: (error: unknown) => void;
  }[] = [];

  export(ref: IKernelRef, request: IExportRequest): Promise<IExportResponse> {
    return new Promise((resolve, reject) =>
      this.calls.push({ ref, request, resolve, reject })
    );
  }
}

interface IShown {
  id: string;
  message: string;
  type: string;
  autoClose: number | false;
  actions?: INotificationAction[];
}

/**
 * Records what JupyterLab's Notification would show.
 */
class FakeNotifier implements IExportNotifier {
  shown: IShown[] = [];

  emit(message: string, type: 'in-progress'): string {
    const id = `n-${this.shown.length + 1}`;
    this.shown.push({ id, message, type, autoClose: false });
    return id;
  }

  update(args: IShown): boolean {
    const i = this.shown.findIndex(n => n.id === args.id);
    if (i < 0) {
      return false;
    }
    this.shown[i] = { ...args };
    return true;
  }

  get last(): IShown {
    return this.shown[this.shown.length - 1];
  }
}

/**
 * Catch what `downloadText` saves: the link clicked and its Blob.
 */
function catchDownloads(): {
  saved: { filename: string; blob: Blob; inDocument: boolean }[];
  revoked: string[];
  restore: () => void;
} {
  const saved: { filename: string; blob: Blob; inDocument: boolean }[] = [];
  const revoked: string[] = [];
  const blobs = new Map<string, Blob>();
  const g = URL as unknown as Record<string, unknown>;
  const create = g.createObjectURL;
  const revoke = g.revokeObjectURL;
  g.createObjectURL = (blob: Blob) => {
    const url = `blob:test/${blobs.size + 1}`;
    blobs.set(url, blob);
    return url;
  };
  g.revokeObjectURL = (url: string) => revoked.push(url);
  const click = jest
    .spyOn(HTMLAnchorElement.prototype, 'click')
    .mockImplementation(function (this: HTMLAnchorElement) {
      saved.push({
        filename: this.download,
        blob: blobs.get(this.getAttribute('href') ?? '')!,
        inDocument: document.body.contains(this)
      });
    });
  return {
    saved,
    revoked,
    restore: () => {
      click.mockRestore();
      g.createObjectURL = create;
      g.revokeObjectURL = revoke;
    }
  };
}

function readBlob(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsText(blob);
  });
}

/**
 * The panel's model following a kernel whose environment has loaded.
 */
async function readyModel(kind = 'venv'): Promise<EnvHelperModel> {
  const api = new FakeAPI();
  const model = new EnvHelperModel({ api, idleRefreshMs: 0 });
  model.setSource(new FakeSession().asSource);
  const response = environmentResponse();
  response.environment!.kind = kind;
  api.environmentCalls[0].resolve(response);
  await flush();
  return model;
}

describe('downloadText', () => {
  it('clicks an <a download> holding the content, then lets the URL go', async () => {
    jest.useFakeTimers();
    const downloads = catchDownloads();
    try {
      downloadText('pylock.toml', 'lock-version = "1.0"\n');

      expect(downloads.saved).toHaveLength(1);
      expect(downloads.saved[0].filename).toBe('pylock.toml');
      expect(downloads.saved[0].inDocument).toBe(true);
      expect(downloads.saved[0].blob.type).toBe('text/plain;charset=utf-8');
      expect(document.querySelector('a[download]')).toBeNull();
      expect(downloads.revoked).toEqual([]);
      jest.runAllTimers();
      expect(downloads.revoked).toEqual(['blob:test/1']);
      jest.useRealTimers();
      expect(await readBlob(downloads.saved[0].blob)).toBe(
        'lock-version = "1.0"\n'
      );
    } finally {
      jest.useRealTimers();
      downloads.restore();
    }
  });
});

describe('Exporter', () => {
  it("exports the panel's kernel, saves the file and says how many packages", async () => {
    const model = await readyModel();
    const api = new FakeExportAPI();
    const notifier = new FakeNotifier();
    const downloads = catchDownloads();
    try {
      const exporter = new Exporter({ api, host: model, trans, notifier });

      const done = exporter.run({ format: 'pylock' });
      expect(api.calls).toHaveLength(1);
      expect(api.calls[0].ref).toEqual({
        kernelId: 'k-1',
        specName: 'python3'
      });
      expect(api.calls[0].request).toEqual({
        format: 'pylock',
        only_requested: false
      });
      expect(notifier.last).toMatchObject({
        type: 'in-progress',
        message: 'Exporting the environment of Python 3 (ipykernel)…'
      });

      api.calls[0].resolve(exportResponse());
      expect(await done).toBe(true);

      expect(downloads.saved.map(s => s.filename)).toEqual(['pylock.toml']);
      expect(await readBlob(downloads.saved[0].blob)).toBe(
        exportResponse().content
      );
      expect(notifier.shown).toHaveLength(1);
      expect(notifier.last).toMatchObject({
        type: 'success',
        message: 'Exported 12 packages to pylock.toml.',
        autoClose: 5000
      });
      expect(notifier.last.actions).toBeUndefined();
    } finally {
      downloads.restore();
      model.dispose();
    }
  });

  it('passes "only what was asked for", except for a lock file', async () => {
    const model = await readyModel('conda');
    const api = new FakeExportAPI();
    const saved: string[] = [];
    const exporter = new Exporter({
      api,
      host: model,
      trans,
      notifier: new FakeNotifier(),
      download: filename => saved.push(filename)
    });

    void exporter.run({ format: 'requirements', only_requested: true });
    void exporter.run({ format: 'environment-yml', only_requested: true });
    void exporter.run({ format: 'pylock', only_requested: true });

    expect(api.calls.map(c => c.request)).toEqual([
      { format: 'requirements', only_requested: true },
      { format: 'environment-yml', only_requested: true },
      { format: 'pylock', only_requested: false }
    ]);
    model.dispose();
  });

  it('names what an index cannot reproduce, in the message when it fits', async () => {
    const model = await readyModel();
    const api = new FakeExportAPI();
    const notifier = new FakeNotifier();
    const saved: [string, string][] = [];
    const showNotes = jest.fn();
    const exporter = new Exporter({
      api,
      host: model,
      trans,
      notifier,
      download: (filename, content) => saved.push([filename, content]),
      showNotes
    });

    const done = exporter.run({ format: 'requirements' });
    api.calls[0].resolve(
      exportResponse({
        format: 'requirements',
        filename: 'requirements.txt',
        content: 'requests==2.32.3 \\\n    --hash=sha256:abc\n',
        packages: 2,
        notes: ['local 0.1: installed from file:///w/local']
      })
    );
    await done;

    expect(saved).toEqual([
      ['requirements.txt', 'requests==2.32.3 \\\n    --hash=sha256:abc\n']
    ]);
    expect(notifier.last.type).toBe('success');
    expect(notifier.last.message).toBe(
      'Exported 2 packages to requirements.txt. Not reproducible from an index: local 0.1: installed from file:///w/local'
    );
    // The notes stay until dismissed, and open in full.
    expect(notifier.last.autoClose).toBe(false);
    expect(notifier.last.actions?.map(a => a.label)).toEqual(['Show details']);
    notifier.last.actions![0].callback();
    expect(showNotes).toHaveBeenCalledWith(
      'Not reproducible from an index (requirements.txt)',
      ['local 0.1: installed from file:///w/local']
    );
    model.dispose();
  });

  it('counts the notes when they are too long for a notification', () => {
    const notes = [
      'local 0.1: installed from file:///home/someone/projects/local/dist/local-0.1-py3-none-any.whl',
      'mine 2.0: editable install from /home/someone/projects/mine'
    ];
    const message = exportedMessage(
      exportResponse({ packages: 1, notes }),
      trans
    );
    expect(message).toBe(
      'Exported 1 package to pylock.toml. 2 are not reproducible from an index.'
    );
    expect(message.length).toBeLessThanOrEqual(140);
  });

  it("shows the error document's message and saves nothing", async () => {
    const model = await readyModel();
    const api = new FakeExportAPI();
    const notifier = new FakeNotifier();
    const download = jest.fn();
    const exporter = new Exporter({
      api,
      host: model,
      trans,
      notifier,
      download
    });

    const done = exporter.run({ format: 'environment-yml' });
    api.calls[0].reject(
      new EnvHelperAPIError({
        kind: 'server',
        status: 400,
        message:
          'This is not a conda environment: export requirements or pylock instead.',
        reason: 'bad-request'
      })
    );

    expect(await done).toBe(false);
    expect(download).not.toHaveBeenCalled();
    expect(notifier.shown).toHaveLength(1);
    expect(notifier.last).toMatchObject({
      type: 'error',
      message:
        'This is not a conda environment: export requirements or pylock instead.',
      autoClose: false
    });
    model.dispose();
  });

  it('says so when the server extension is not enabled', async () => {
    const model = await readyModel();
    const api = new FakeExportAPI();
    const notifier = new FakeNotifier();
    const exporter = new Exporter({ api, host: model, trans, notifier });

    const done = exporter.run({ format: 'requirements' });
    api.calls[0].reject(
      new EnvHelperAPIError({ kind: 'not-enabled', status: 404, message: 'x' })
    );
    await done;

    expect(notifier.last.type).toBe('error');
    expect(notifier.last.message).toMatch(
      /jupyter_envhelper server extension is not enabled/
    );
    model.dispose();
  });
});

function renderHeader(
  kind: string,
  onExport?: (request: IExportRequest) => Promise<unknown>
) {
  const response = environmentResponse();
  response.environment!.kind = kind;
  return render(
    <EnvironmentView
      kernel={kernel}
      state={{ status: 'ready', response, error: null }}
      trans={trans}
      onRefresh={() => undefined}
      onExport={onExport}
    />
  );
}

function optionValues(): string[] {
  const select = screen.getByLabelText('Export format') as HTMLSelectElement;
  return [...select.options].map(o => o.value);
}

describe('Export… in the environment header', () => {
  it('is absent without an exporter', () => {
    renderHeader('venv');
    expect(screen.queryByText('Export…')).toBeNull();
  });

  it('offers environment.yml only for a conda environment', () => {
    const venv = renderHeader('venv', () => Promise.resolve());
    fireEvent.click(screen.getByText('Export…'));
    expect(optionValues()).toEqual(['requirements', 'pylock']);
    venv.unmount();

    renderHeader('conda', () => Promise.resolve());
    fireEvent.click(screen.getByText('Export…'));
    expect(optionValues()).toEqual([
      'requirements',
      'pylock',
      'environment-yml'
    ]);
    expect(screen.getByText('environment.yml (conda)')).toBeTruthy();
  });

  it('disables "Only what was asked for" for pylock, and sends the choice', async () => {
    const onExport = jest.fn(() => Promise.resolve());
    renderHeader('conda', onExport);
    fireEvent.click(screen.getByText('Export…'));
    const only = screen.getByLabelText(
      'Only what was asked for'
    ) as HTMLInputElement;
    const select = screen.getByLabelText('Export format') as HTMLSelectElement;

    expect(only.disabled).toBe(false);
    fireEvent.click(only);
    expect(only.checked).toBe(true);

    fireEvent.change(select, { target: { value: 'pylock' } });
    expect(only.disabled).toBe(true);
    expect(only.checked).toBe(false);
    await act(async () => {
      fireEvent.click(screen.getByText('Export'));
      await flush();
    });
    expect(onExport).toHaveBeenLastCalledWith({
      format: 'pylock',
      only_requested: false
    });
    // Done: the form folds back to its button.
    expect(screen.queryByLabelText('Export format')).toBeNull();

    fireEvent.click(screen.getByText('Export…'));
    fireEvent.change(screen.getByLabelText('Export format'), {
      target: { value: 'environment-yml' }
    });
    // The choice made before pylock is kept for the formats it applies to.
    expect(
      (screen.getByLabelText('Only what was asked for') as HTMLInputElement)
        .checked
    ).toBe(true);
    await act(async () => {
      fireEvent.click(screen.getByText('Export'));
      await flush();
    });
    expect(onExport).toHaveBeenLastCalledWith({
      format: 'environment-yml',
      only_requested: true
    });
  });

  it('is busy while the export runs', async () => {
    let finish: () => void = () => undefined;
    renderHeader(
      'venv',
      () => new Promise<void>(resolve => (finish = resolve))
    );
    fireEvent.click(screen.getByText('Export…'));
    fireEvent.click(screen.getByText('Export'));

    const running = screen.getByText('Exporting…') as HTMLButtonElement;
    expect(running.disabled).toBe(true);
    expect(
      (screen.getByLabelText('Export format') as HTMLSelectElement).disabled
    ).toBe(true);

    await act(async () => {
      finish();
      await flush();
    });
    expect(screen.getByText('Export…')).toBeTruthy();
  });
});

describe('EnvHelperView with an exporter', () => {
  it('exports the followed kernel from the panel and saves the file', async () => {
    const model = await readyModel();
    const api = new FakeExportAPI();
    const notifier = new FakeNotifier();
    const saved: [string, string][] = [];
    const exporter = new Exporter({
      api,
      host: model,
      trans,
      notifier,
      download: (filename, content) => saved.push([filename, content])
    });
    render(<EnvHelperView model={model} exporter={exporter} trans={trans} />);

    fireEvent.click(screen.getByText('Export…'));
    fireEvent.change(screen.getByLabelText('Export format'), {
      target: { value: 'pylock' }
    });
    fireEvent.click(screen.getByText('Export'));
    expect(api.calls.map(c => [c.ref, c.request])).toEqual([
      [
        { kernelId: 'k-1', specName: 'python3' },
        { format: 'pylock', only_requested: false }
      ]
    ]);
    await act(async () => {
      api.calls[0].resolve(exportResponse());
      await flush();
    });

    expect(saved).toEqual([['pylock.toml', exportResponse().content]]);
    expect(notifier.last.message).toBe('Exported 12 packages to pylock.toml.');
    model.dispose();
  });

  it('offers no export before the environment is known', () => {
    const api = new FakeAPI();
    const model = new EnvHelperModel({ api, idleRefreshMs: 0 });
    model.setSource(new FakeSession().asSource);
    const exporter = new Exporter({
      api: new FakeExportAPI(),
      host: model,
      trans,
      notifier: new FakeNotifier()
    });
    render(<EnvHelperView model={model} exporter={exporter} trans={trans} />);
    expect(screen.queryByText('Export…')).toBeNull();
    model.dispose();
  });
});

describe('ExportNotes', () => {
  it('lists each note', () => {
    const { container } = render(
      <ExportNotes notes={['local 0.1: installed from file:///w', 'b 1: x']} />
    );
    expect(
      [...container.querySelectorAll('li')].map(li => li.textContent)
    ).toEqual(['local 0.1: installed from file:///w', 'b 1: x']);
  });
});
