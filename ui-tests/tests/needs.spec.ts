import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { APIRequestContext } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

import { KERNELS_DIR, PY311 } from './helpers';

test.use({ autoGoto: true });

test.skip(
  !process.env.ENVHELPER_TEST_INDEX_URL,
  'needs the test package index: set ENVHELPER_TEST_INDEX_URL'
);

// The install tests change the throwaway 3.11 kernel: one test at a time.
test.describe.configure({ mode: 'serial' });

/** A project the test index serves (tests/indexserver/__main__.py). */
const DEMO = 'envhelper-demo';
const CODE = 'import envhelper_demo\nprint("ok", envhelper_demo.__name__)';

/**
 * Make sure the 3.11 test kernel lacks the demo package, whatever ran
 * before (the rescue test installs it too): uninstall it through the API.
 */
async function withoutDemo(
  request: APIRequestContext,
  baseURL: string
): Promise<void> {
  const api = `${baseURL.replace(/\/$/, '')}/envhelper`;
  const query = `kernel=${encodeURIComponent(PY311)}`;
  const env = await request.get(`${api}/environment?${query}`);
  expect(env.ok()).toBe(true);
  const body = await env.json();
  const installed = (body.environment?.distributions ?? []).some(
    (d: { name: string }) =>
      d.name.toLowerCase().replace(/[-_.]+/g, '-') === DEMO
  );
  if (!installed) {
    return;
  }
  const started = await request.post(`${api}/jobs`, {
    data: { kernel: PY311, action: 'uninstall', names: [DEMO] }
  });
  expect(started.ok()).toBe(true);
  const id = (await started.json()).job.id;
  await expect
    .poll(
      async () =>
        (await (await request.get(`${api}/jobs/${id}`)).json()).job.state,
      { timeout: 60000 }
    )
    .toBe('succeeded');
}

/**
 * Write a notebook with one code cell, saved for the 3.11 test kernel, and
 * open it: the kernel starts from the notebook's metadata.
 */
async function openNotebook(
  page: IJupyterLabPageFixture,
  filePath: string
): Promise<void> {
  const notebook = {
    cells: [
      {
        cell_type: 'code',
        execution_count: null,
        id: 'needs-demo',
        metadata: {},
        outputs: [],
        source: CODE
      }
    ],
    metadata: {
      kernelspec: {
        name: PY311,
        display_name: 'Python 3.11 (test)',
        language: 'python'
      },
      language_info: { name: 'python' }
    },
    nbformat: 4,
    nbformat_minor: 5
  };
  expect(
    await page.contents.uploadContent(
      JSON.stringify(notebook),
      'text',
      filePath
    )
  ).toBe(true);
  expect(await page.notebook.openByPath(filePath)).toBe(true);
  await page
    .locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
    .waitFor({ timeout: 60000 });
}

async function runCommandFromPalette(
  page: IJupyterLabPageFixture,
  label: string
): Promise<void> {
  await page.keyboard.press('Control+Shift+C');
  const input = page.locator('#modal-command-palette .lm-CommandPalette-input');
  await input.fill(label);
  await page
    .locator('#modal-command-palette .lm-CommandPalette-item', {
      hasText: label
    })
    .first()
    .click();
}

// The kernel is shared with the other browser tests (the rescue test needs it without
// the demo package): leave it as this test found it, even when the test fails.
test.afterEach(async ({ request, baseURL }) => {
  if (fs.existsSync(path.join(KERNELS_DIR, PY311, 'kernel.json'))) {
    await withoutDemo(request, baseURL ?? 'http://localhost:8888');
  }
});

test('a notebook whose kernel lacks a package: the banner installs it, the cell runs, the dependencies are recorded', async ({
  page,
  request,
  tmpPath,
  baseURL
}, testInfo) => {
  test.skip(
    !fs.existsSync(path.join(KERNELS_DIR, PY311, 'kernel.json')),
    `the test kernel ${PY311} was not made (make_test_kernels.py)`
  );
  await withoutDemo(request, baseURL ?? 'http://localhost:8888');
  await openNotebook(page, `${tmpPath}/envhelper-needs.ipynb`);

  // Nothing was run: the banner comes from reading the notebook.
  const banner = page.locator('.jp-NotebookPanel .jp-EnvHelper-needs');
  await expect(banner).toBeVisible({ timeout: 60000 });
  await expect(banner.locator('.jp-EnvHelper-needsText')).toHaveText(
    "This notebook needs envhelper-demo, which Python 3.11 (test) doesn't have."
  );
  await expect(
    banner.locator(`.jp-EnvHelper-needsItem[data-name="${DEMO}"]`)
  ).toContainText('imported in cell 1');
  await expect(
    banner.getByRole('button', { name: 'Choose another kernel' })
  ).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('needs-banner.png') });

  await banner.getByRole('button', { name: 'Install', exact: true }).click();
  // The panel's own plan, confirmed there (blockers and warnings show there).
  const panel = page.locator('#jp-envhelper-panel');
  await expect(panel).toBeVisible();
  const plan = panel.locator('.jp-EnvHelper-plan');
  await expect(
    plan.locator(`.jp-EnvHelper-action-install[data-name="${DEMO}"]`)
  ).toBeVisible({ timeout: 60000 });
  const install = plan.getByRole('button', { name: 'Install', exact: true });
  await expect(install).toBeEnabled({ timeout: 60000 });
  await install.click();
  const job = panel.locator('.jp-EnvHelper-job');
  await expect(job).toBeVisible();
  await expect(job.locator('.jp-EnvHelper-outcome-succeeded')).toBeVisible({
    timeout: 120000
  });

  // Asked again after the job: nothing is missing, the banner is gone.
  await expect(banner).toHaveCount(0, { timeout: 60000 });

  await page.notebook.runCell(0);
  await expect
    .poll(
      async () =>
        ((await page.notebook.getCellTextOutput(0)) ?? []).join('').trim(),
      { timeout: 60000 }
    )
    .toBe('ok envhelper_demo');
  await page.screenshot({ path: testInfo.outputPath('needs-installed.png') });

  // Recording writes the PEP 723 block into a new first code cell. (Running
  // the cell added an empty one below it.)
  const cells = await page.notebook.getCellCount();
  await runCommandFromPalette(page, "Record this notebook's dependencies");
  await expect
    .poll(() => page.notebook.getCellCount(), { timeout: 30000 })
    .toBe(cells + 1);
  const recorded = await page.notebook.getCellTextInput(0);
  expect(recorded).toContain('# /// script');
  expect(recorded).toContain('# requires-python = ">=3.11"');
  expect(recorded).toContain(`#   "${DEMO}==1.0",`);
  expect(await page.notebook.getCellTextInput(1)).toContain(
    'import envhelper_demo'
  );
  await page.screenshot({ path: testInfo.outputPath('needs-recorded.png') });
});
