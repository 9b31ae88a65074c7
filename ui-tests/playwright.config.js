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
      // `jupyter` is the one first in PATH: run from the venv that has
      // jupyter_envhelper installed.
      command: 'jupyter lab --config jupyter_server_test_config.py',
      url: 'http://localhost:8888/lab',
      timeout: 120 * 1000,
      reuseExistingServer: !process.env.CI,
      stdout: 'pipe',
      stderr: 'pipe'
    }
  ]
};
