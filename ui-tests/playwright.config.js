/**
 * Galata (Playwright) configuration for the jupyter-envhelper browser tests.
 *
 * Runs Debian's Chromium (/usr/bin/chromium): Playwright's own browser and
 * ffmpeg downloads are not available here, hence no video.
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

// The local test index (tests/indexserver), served from the repository root.
const INDEX_PORT = process.env.ENVHELPER_TEST_INDEX_PORT || '8765';
process.env.ENVHELPER_TEST_INDEX_URL ??= `http://127.0.0.1:${INDEX_PORT}/simple/`;
process.env.ENVHELPER_TEST_PROJECT ??= 'beta';

// The kernels the install tests change and switch to (make_test_kernels.py):
// their kernelspecs live under <dir>/jupyter, which the test server's
// JUPYTER_PATH includes.
const path = require('path');
const os = require('os');
process.env.ENVHELPER_TEST_KERNELS_DIR ??= path.join(
  os.homedir(),
  '.cache',
  'jupyter-envhelper-ui-tests'
);
const KERNELS_JUPYTER_PATH = path.join(
  process.env.ENVHELPER_TEST_KERNELS_DIR,
  'jupyter'
);

module.exports = {
  ...baseConfig,
  reporter: [['list'], ['html', { open: 'never' }]],
  outputDir: 'test-results',
  use: {
    ...baseConfig.use,
    video: 'off',
    trace: 'off',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run'
      ]
    }
  },
  webServer: [
    {
      // `python` is the one first in PATH (make puts .venv/bin there).
      command: `python -m tests.indexserver --port ${INDEX_PORT}`,
      cwd: '..',
      url: process.env.ENVHELPER_TEST_INDEX_URL,
      timeout: 60 * 1000,
      reuseExistingServer: !process.env.CI,
      stdout: 'pipe',
      stderr: 'pipe'
    },
    {
      // `jupyter` and `python` are the ones first in PATH: run from the venv
      // that has jupyter_envhelper (and uv) installed. The test kernels are
      // made first.
      command:
        'python make_test_kernels.py && ' +
        'jupyter lab --config jupyter_server_test_config.py',
      url: 'http://localhost:8888/lab',
      timeout: 240 * 1000,
      env: {
        ...process.env,
        JUPYTER_PATH: [KERNELS_JUPYTER_PATH, process.env.JUPYTER_PATH]
          .filter(Boolean)
          .join(path.delimiter)
      },
      reuseExistingServer: !process.env.CI,
      stdout: 'pipe',
      stderr: 'pipe'
    }
  ]
};
