import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { Locator } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

import {
  KERNELS_DIR,
  newNotebookWithKernel,
  openEnvHelper,
  PY311,
  PY312,
  runCode
} from './helpers';

test.use({ autoGoto: true });

test.skip(
  !process.env.ENVHELPER_TEST_INDEX_URL,
  'needs the test package index: set ENVHELPER_TEST_INDEX_URL'
);

// The tests install into the same throwaway kernel environment: one at a time.
test.describe.configure({ mode: 'serial' });

/**
 * Open the notebook on the throwaway 3.11 kernel and the panel for it.
 */
async function setUp(
  page: IJupyterLabPageFixture,
  name: string
): Promise<Locator> {
  test.skip(
    !fs.existsSync(path.join(KERNELS_DIR, PY311, 'kernel.json')),
    `the test kernel ${PY311} was not made (make_test_kernels.py)`
  );
  await newNotebookWithKernel(page, name, PY311);
  const panel = await openEnvHelper(page);
  await expect(panel.locator('.jp-EnvHelper-pythonVersion')).toHaveText(
    /^3\.11/,
    { timeout: 60000 }
  );
  return panel;
}

/**
 * Plan a requirement typed into the one search box ("Plan install of …").
 */
async function planRequirement(
  panel: Locator,
  requirement: string
): Promise<Locator> {
  await panel.getByRole('tab', { name: 'Find packages' }).click();
  await panel.getByLabel('Search the package index').fill(requirement);
  await panel
    .getByRole('button', {
      name: `Plan install of ${requirement}`,
      exact: true
    })
    .click();
  const plan = panel.locator('.jp-EnvHelper-plan');
  await expect(plan).toBeVisible();
  return plan;
}

/**
 * Confirm the plan and wait for the job's outcome.
 */
async function installAndWait(
  page: IJupyterLabPageFixture,
  panel: Locator,
  plan: Locator,
  screenshot?: string
): Promise<Locator> {
  const install = plan.getByRole('button', { name: 'Install', exact: true });
  await expect(install).toBeEnabled({ timeout: 60000 });
  await install.click();
  const job = panel.locator('.jp-EnvHelper-job');
  await expect(job).toBeVisible();
  if (screenshot) {
    await page.screenshot({ path: screenshot });
  }
  const outcome = job.locator('.jp-EnvHelper-outcome');
  await expect(outcome).toBeVisible({ timeout: 120000 });
  return job;
}

test('a blocked plan switches the notebook to a kernel that can take it', async ({
  page
}, testInfo) => {
  test.skip(
    !fs.existsSync(path.join(KERNELS_DIR, PY312, 'kernel.json')),
    'no Python 3.12 on this machine, so no second test kernel to switch to'
  );
  const panel = await setUp(page, 'envhelper-switch.ipynb');

  // alpha 3.0 needs Python >= 3.12: blocked in the 3.11 kernel. (It needs
  // beta>=2 too, whose only release is yanked: pinned, so it may be used.)
  const plan = await planRequirement(panel, 'alpha==3.0 beta==2.0');
  await expect(
    plan
      .locator('.jp-EnvHelper-severity-blocker')
      .or(plan.locator('.jp-EnvHelper-conflict'))
      .first()
  ).toBeVisible({ timeout: 60000 });
  const install = plan.getByRole('button', { name: 'Install', exact: true });
  await expect(install).toBeDisabled();
  await expect(install).toHaveAttribute('title', /^Cannot install/);

  const suggestion = plan.locator(
    `.jp-EnvHelper-suggestion[data-kernel="${PY312}"]`
  );
  await expect(suggestion).toBeVisible();
  await page.screenshot({
    path: testInfo.outputPath('envhelper-plan-blocked.png')
  });
  await page.theme.setDarkTheme();
  await panel.screenshot({
    path: testInfo.outputPath('envhelper-plan-blocked-dark.png')
  });
  await page.theme.setLightTheme();
  await suggestion.getByRole('button', { name: /Switch/ }).click();

  // The notebook's kernel really changed...
  await expect(
    page.locator('.jp-NotebookPanel-toolbar .jp-Toolbar-kernelName')
  ).toHaveText(/Python 3\.12 \(test\)/, { timeout: 60000 });
  await page
    .locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
    .waitFor({ timeout: 60000 });
  expect(
    await runCode(page, 0, 'import sys; print("%d.%d" % sys.version_info[:2])')
  ).toBe('3.12');

  // ...and the plan is now for it, and can be installed.
  await expect(plan.locator('.jp-EnvHelper-planTarget')).toContainText(
    'Python 3.12',
    { timeout: 60000 }
  );
  await expect(install).toBeEnabled({ timeout: 60000 });
  await expect(panel.locator('.jp-EnvHelper-pythonVersion')).toHaveText(
    /^3\.12/,
    { timeout: 60000 }
  );
  await page.screenshot({
    path: testInfo.outputPath('envhelper-plan-switched.png')
  });
});

test('search, plan, install, import, then undo from the history', async ({
  page
}, testInfo) => {
  const panel = await setUp(page, 'envhelper-install.ipynb');
  const probe =
    'try:\n    import envhelper_demo\n    print("present")\n' +
    'except ModuleNotFoundError:\n    print("absent")';

  await panel.getByRole('tab', { name: 'Find packages' }).click();
  await panel
    .getByLabel('Search the package index')
    .pressSequentially('envhelper-demo', { delay: 20 });
  const hit = panel.locator('.jp-EnvHelper-hit', {
    has: page.locator('.jp-EnvHelper-name', { hasText: /^envhelper-demo$/ })
  });
  await expect(hit).toBeVisible({ timeout: 30000 });
  await hit.getByRole('button', { name: 'Install envhelper-demo' }).click();

  const plan = panel.locator('.jp-EnvHelper-plan');
  await expect(
    plan.locator('.jp-EnvHelper-action-install[data-name="envhelper-demo"]')
  ).toBeVisible({ timeout: 60000 });
  await page.screenshot({ path: testInfo.outputPath('envhelper-plan.png') });

  const job = await installAndWait(
    page,
    panel,
    plan,
    testInfo.outputPath('envhelper-job-progress.png')
  );
  await expect(job.locator('.jp-EnvHelper-outcome-succeeded')).toBeVisible();
  await expect(job.locator('.jp-EnvHelper-ready')).toHaveText(
    /ready to import/i
  );
  await job.getByRole('button', { name: 'Show the log' }).click();
  await expect(job.locator('.jp-EnvHelper-log')).not.toBeEmpty();
  await page.screenshot({
    path: testInfo.outputPath('envhelper-job-done.png')
  });
  // A notification said so too.
  await expect(
    page.locator('.Toastify__toast', { hasText: /envhelper-demo/ }).first()
  ).toBeVisible();

  expect(await runCode(page, 0, probe)).toBe('present');

  // Undo it from the history.
  await job.getByRole('button', { name: 'Back to the list' }).click();
  await panel.getByRole('tab', { name: 'History' }).click();
  const entry = panel.locator('.jp-EnvHelper-historyEntry').first();
  await expect(entry).toContainText('envhelper-demo', { timeout: 30000 });
  await page.screenshot({ path: testInfo.outputPath('envhelper-history.png') });
  await entry.getByRole('button', { name: /^Undo/ }).click();
  // Undo asks first, showing what it will change
  await expect(entry.locator('.jp-EnvHelper-undoConfirm')).toContainText(
    'envhelper-demo'
  );
  await entry.getByRole('button', { name: 'Confirm undo' }).click();
  const undo = panel.locator('.jp-EnvHelper-job');
  await expect(undo.locator('.jp-EnvHelper-outcome-succeeded')).toBeVisible({
    timeout: 120000
  });

  // The running kernel has imported it: restart, and a fresh kernel lacks it.
  const restart = undo.getByRole('button', { name: 'Restart kernel' });
  if (await restart.isVisible()) {
    await restart.click();
    await expect(undo.locator('.jp-EnvHelper-ready')).toBeVisible({
      timeout: 60000
    });
    await page
      .locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
      .waitFor({ timeout: 60000 });
    expect(await runCode(page, 0, probe)).toBe('absent');
  }
  await undo.getByRole('button', { name: 'Back to the list' }).click();
  await panel.getByRole('tab', { name: /^Installed/ }).click();
  await panel.getByLabel('Filter installed packages').fill('envhelper-demo');
  await expect(
    panel.locator('.jp-EnvHelper-distribution', { hasText: 'envhelper-demo' })
  ).toHaveCount(0, { timeout: 30000 });
});

test('installing over an imported version offers to restart the kernel', async ({
  page
}, testInfo) => {
  const panel = await setUp(page, 'envhelper-restart.ipynb');

  let job = await installAndWait(
    page,
    panel,
    await planRequirement(panel, 'alpha==1.0')
  );
  await expect(job.locator('.jp-EnvHelper-outcome-succeeded')).toBeVisible();
  expect(
    await runCode(page, 0, 'import alpha\nmarker = 1\nprint(alpha.__version__)')
  ).toBe('1.0');

  await job.getByRole('button', { name: 'Back to the list' }).click();
  job = await installAndWait(
    page,
    panel,
    await planRequirement(panel, 'alpha==2.0')
  );
  await expect(job.locator('.jp-EnvHelper-outcome-succeeded')).toBeVisible();
  const restart = job.getByRole('button', { name: 'Restart kernel' });
  await expect(restart).toBeVisible();
  await page.screenshot({
    path: testInfo.outputPath('envhelper-restart-offer.png')
  });
  await page.theme.setDarkTheme();
  await panel.screenshot({
    path: testInfo.outputPath('envhelper-restart-offer-dark.png')
  });
  await page.theme.setLightTheme();
  await restart.click();
  await expect(job.locator('.jp-EnvHelper-ready')).toHaveText(/restarted/i, {
    timeout: 60000
  });
  await page
    .locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
    .waitFor({ timeout: 60000 });

  // A new process: the marker is gone and the new version imports.
  expect(
    await runCode(
      page,
      0,
      'print("marker" in globals())\nimport alpha\nprint(alpha.__version__)'
    )
  ).toMatch(/^False\s+2\.0$/);
});
