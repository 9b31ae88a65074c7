import {
  environmentWarnings,
  errorMessage,
  fitLabel,
  formatBytes,
  formatUploadTime,
  kindLabel,
  mismatchMessage,
  typosquatDetail,
  vulnerabilitySummary
} from '../describe';
import { EnvHelperAPIError } from '../request';
import { environmentResponse, trans } from './fixtures/responses';

describe('environmentWarnings', () => {
  it('has none for a healthy writable venv', () => {
    expect(environmentWarnings(environmentResponse(), trans)).toEqual([]);
  });

  it('names an externally managed, read-only environment', () => {
    const response = environmentResponse();
    response.environment!.externally_managed = {
      message: 'To install Python packages system-wide, try apt install.'
    };
    response.environment!.writable = false;
    response.environment!.prefix = '/usr';

    const messages = environmentWarnings(response, trans).map(w => w.message);

    expect(messages).toEqual([
      'This environment is externally managed: To install Python packages system-wide, try apt install.',
      'You cannot write to /usr: installing here needs other permissions.'
    ]);
  });

  it('says which interpreter the kernelspec names and which one runs', () => {
    const response = environmentResponse();
    response.kernel.spec_interpreter = '/usr/bin/python3';
    response.kernel.interpreter = '/srv/venv/bin/python';

    expect(environmentWarnings(response, trans)).toEqual([
      {
        code: 'interpreter-mismatch',
        message:
          'The kernelspec points at /usr/bin/python3 but the running kernel uses /srv/venv/bin/python'
      }
    ]);
  });

  it("prefers the server's own wording and does not repeat it", () => {
    const response = environmentResponse();
    response.kernel.mismatch = 'Spec X, kernel Y';
    response.environment!.writable = false;
    response.environment!.warnings = [
      { code: 'not-writable', message: 'Read-only site-packages.' },
      { code: 'interpreter-mismatch', message: 'Spec X, kernel Y' }
    ];

    expect(environmentWarnings(response, trans)).toEqual([
      { code: 'not-writable', message: 'Read-only site-packages.' },
      { code: 'interpreter-mismatch', message: 'Spec X, kernel Y' }
    ]);
  });

  it('does not call an unconfirmed interpreter a mismatch', () => {
    const response = environmentResponse();
    response.kernel.confirmed_by_kernel = false;
    response.kernel.spec_interpreter = '/a/python';
    response.kernel.interpreter = '/b/python';
    expect(mismatchMessage(response, trans)).toBeNull();
  });
});

describe('vulnerabilitySummary', () => {
  it('says unknown when the index publishes nothing', () => {
    const text = vulnerabilitySummary(null, trans);
    expect(text).toMatch(/^Unknown/);
    expect(text).not.toMatch(/none known/i);
  });

  it('says none known only for an empty list', () => {
    expect(vulnerabilitySummary([], trans)).toBe(
      'None known to the package index.'
    );
  });

  it('counts known vulnerabilities', () => {
    const v = { id: 'PYSEC-1', summary: 's', fixed_in: [], link: '' };
    expect(vulnerabilitySummary([v], trans)).toBe('1 known vulnerability');
    expect(vulnerabilitySummary([v, v], trans)).toBe('2 known vulnerabilities');
  });
});

describe('formatting', () => {
  it('formats sizes like pip', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(13066521)).toBe('13.1 MB');
    expect(formatBytes(2_500_000_000)).toBe('2.5 GB');
    expect(formatBytes(null)).toBe('');
  });

  it('keeps the date of an upload time', () => {
    expect(formatUploadTime('2024-09-20T13:08:42.123Z')).toBe('2024-09-20');
    expect(formatUploadTime(null)).toBe('');
  });

  it('labels kinds and fit in words', () => {
    expect(kindLabel('conda', trans)).toBe('conda environment');
    expect(kindLabel('pixi', trans)).toBe('pixi');
    expect(fitLabel('needs-build', trans)).toBe('needs a build');
  });

  it('explains a 404 as the server extension not being enabled', () => {
    const error = new EnvHelperAPIError({
      kind: 'not-enabled',
      status: 404,
      message: 'x'
    });
    expect(errorMessage(error, trans)).toMatch(
      /^The jupyter_envhelper server extension is not enabled/
    );
  });
});

describe('typosquatDetail', () => {
  it('drops a closing question the link already asks', () => {
    expect(
      typosquatDetail({
        suggestion: 'requests',
        message:
          "'reqwests' looks like 'requests' ('w' in place of 'u'). Did you mean requests?"
      })
    ).toBe("'reqwests' looks like 'requests' ('w' in place of 'u').");
    expect(
      typosquatDetail({ suggestion: 'numpy', message: 'One letter away.' })
    ).toBe('One letter away.');
  });
});
