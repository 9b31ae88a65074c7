import { expect, test } from '@jupyterlab/galata';

import { newNotebookWithKernel, openEnvHelper } from './helpers';

test.use({ autoGoto: true });

test('the panel shows the environment of the notebook kernel', async ({
  page
}, testInfo) => {
  await newNotebookWithKernel(page, 'envhelper-panel.ipynb');

  // What the kernel itself says its Python version is.
  await page.notebook.setCell(
    0,
    'code',
    'import sys; print("%d.%d.%d" % sys.version_info[:3])'
  );
  await page.notebook.runCell(0);
  const kernelVersion = ((await page.notebook.getCellTextOutput(0)) ?? [])
    .join('')
    .trim();
  expect(kernelVersion).toMatch(/^\d+\.\d+\.\d+$/);

  const panel = await openEnvHelper(page);

  await expect(panel.locator('.jp-EnvHelper-kernelName')).toHaveText(
    /Python 3/
  );
  await expect(panel.locator('.jp-EnvHelper-pythonVersion')).toHaveText(
    new RegExp(`^${kernelVersion.replace(/\./g, '\\.')}`),
    { timeout: 60000 }
  );
  await expect(panel.locator('.jp-EnvHelper-packageCount')).toHaveText(
    /\d+ packages/ // plain words for a beginner (issue 14), not "distributions"
  );
  await expect(panel.locator('.jp-EnvHelper-gpu')).not.toBeEmpty();

  // A package that must be there: the kernel runs on it.
  await panel.getByLabel('Filter installed packages').fill('ipykernel');
  const row = panel.locator('.jp-EnvHelper-distribution', {
    has: page.locator('.jp-EnvHelper-name', { hasText: /^ipykernel$/ })
  });
  await expect(row).toBeVisible();
  await expect(row.locator('.jp-EnvHelper-version')).toHaveText(/^\d+\./);

  await panel.getByLabel('Filter installed packages').fill('');
  await page.screenshot({ path: testInfo.outputPath('envhelper-panel.png') });
  await panel.screenshot({
    path: testInfo.outputPath('envhelper-panel-only.png')
  });
});

test('the panel asks for a notebook when none is open', async ({ page }) => {
  const panel = await openEnvHelper(page);
  await expect(panel).toContainText(
    "Open a notebook or console to see its kernel's environment"
  );
});
