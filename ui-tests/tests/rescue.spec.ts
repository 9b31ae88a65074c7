import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { Locator } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

import { KERNELS_DIR, newNotebookWithKernel, PY311, PY312 } from './helpers';

test.use({ autoGoto: true });

test.skip(
  !process.env.ENVHELPER_TEST_INDEX_URL,
  'needs the test package index: set ENVHELPER_TEST_INDEX_URL'
);

// The install test changes the throwaway 3.11 kernel: one test at a time.
test.describe.configure({ mode: 'serial' });

/**
 * Run cell 0 of a new notebook on the 3.11 test kernel; it fails with a
 * missing module, and the rescue banner appears in the notebook.
 */
async function failImport(
  page: IJupyterLabPageFixture,
  name: string,
  code: string
): Promise<Locator> {
  test.skip(
    !fs.existsSync(path.join(KERNELS_DIR, PY311, 'kernel.json')),
    `the test kernel ${PY311} was not made (make_test_kernels.py)`
  );
  await newNotebookWithKernel(page, name, PY311);
  await page.notebook.setCell(0, 'code', code);
  await page.notebook.runCell(0);
  await expect(errorOutput(page)).toHaveCount(1);
  const banner = page.locator('.jp-NotebookPanel .jp-EnvHelper-rescue');
  await expect(banner).toBeVisible({ timeout: 30000 });
  return banner;
}

function errorOutput(page: IJupyterLabPageFixture): Locator {
  return page.locator(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
  );
}

async function cellOutput(page: IJupyterLabPageFixture): Promise<string> {
  return ((await page.notebook.getCellTextOutput(0)) ?? []).join('').trim();
}

test('a missing module: the banner names the package, installs it, runs the cell again', async ({
  page
}, testInfo) => {
  const banner = await failImport(
    page,
    'envhelper-rescue-install.ipynb',
    'import envhelper_demo\nprint("imported", envhelper_demo.__name__)'
  );
  // The request may still run: it says what it does.
  await expect(banner.locator('.jp-EnvHelper-rescueDistribution')).toHaveText(
    'envhelper-demo',
    { timeout: 60000 }
  );
  await expect(banner.locator('.jp-EnvHelper-rescueMessage')).toHaveAttribute(
    'data-verdict',
    'ok'
  );
  await page.screenshot({
    path: testInfo.outputPath('rescue-banner.png')
  });

  await banner.getByRole('button', { name: 'Install here' }).click();
  await expect(banner.locator('.jp-EnvHelper-rescueStep')).toContainText(
    'Check the plan for envhelper-demo'
  );
  // The panel's own plan, confirmed there.
  const panel = page.locator('#jp-envhelper-panel');
  await expect(panel).toBeVisible();
  const plan = panel.locator('.jp-EnvHelper-plan');
  await expect(
    plan.locator('.jp-EnvHelper-action-install[data-name="envhelper-demo"]')
  ).toBeVisible({ timeout: 60000 });
  const install = plan.getByRole('button', { name: 'Install', exact: true });
  await expect(install).toBeEnabled({ timeout: 60000 });
  await page.screenshot({
    path: testInfo.outputPath('rescue-plan.png')
  });
  await install.click();
  const job = panel.locator('.jp-EnvHelper-job');
  await expect(job).toBeVisible();
  await expect(job.locator('.jp-EnvHelper-outcome-succeeded')).toBeVisible({
    timeout: 120000
  });

  // The banner heard of it.
  await expect(banner.locator('.jp-EnvHelper-rescueStep')).toHaveText(
    'envhelper-demo is installed.'
  );
  const rerun = banner.getByRole('button', { name: 'Run the cell again' });
  await expect(rerun).toBeVisible();
  await page.screenshot({
    path: testInfo.outputPath('rescue-installed.png')
  });
  await rerun.click();

  await expect
    .poll(() => cellOutput(page), { timeout: 60000 })
    .toBe('imported envhelper_demo');
  await expect(errorOutput(page)).toHaveCount(0);
  // Solved: the banner is gone.
  await expect(banner).toHaveCount(0);
  await page.screenshot({
    path: testInfo.outputPath('rescue-done.png')
  });
});

test('a module another kernel has: the banner switches the notebook to it', async ({
  page
}, testInfo) => {
  test.skip(
    !fs.existsSync(path.join(KERNELS_DIR, PY312, 'kernel.json')),
    'no Python 3.12 on this machine, so no second test kernel that has the module'
  );
  const banner = await failImport(
    page,
    'envhelper-rescue-switch.ipynb',
    'import envhelper_elsewhere, sys\nprint("%d.%d" % sys.version_info[:2])'
  );
  const listed = banner.locator(
    `.jp-EnvHelper-rescueElsewhere li[data-kernel="${PY312}"]`
  );
  await expect(listed).toContainText('Python 3.12 (test)', { timeout: 60000 });
  await expect(listed).toContainText('envhelper-elsewhere 1.0');
  await page.screenshot({
    path: testInfo.outputPath('rescue-elsewhere.png')
  });

  await banner
    .getByRole('button', { name: 'Switch to kernel Python 3.12 (test)' })
    .click();
  await expect(
    page.locator('.jp-NotebookPanel-toolbar .jp-Toolbar-kernelName')
  ).toHaveText(/Python 3\.12 \(test\)/, { timeout: 60000 });
  await expect(banner.locator('.jp-EnvHelper-rescueStep')).toHaveText(
    'The notebook now runs Python 3.12 (test).',
    { timeout: 60000 }
  );
  await page
    .locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
    .waitFor({ timeout: 60000 });
  await page.screenshot({
    path: testInfo.outputPath('rescue-switched.png')
  });

  await banner.getByRole('button', { name: 'Run the cell again' }).click();
  await expect.poll(() => cellOutput(page), { timeout: 60000 }).toBe('3.12');
  await expect(errorOutput(page)).toHaveCount(0);
  await expect(banner).toHaveCount(0);
});
