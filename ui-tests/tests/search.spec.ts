import { expect, test } from '@jupyterlab/galata';

import { newNotebookWithKernel, openEnvHelper } from './helpers';

/**
 * Projects published by the tests' package index (ENVHELPER_TEST_INDEX_URL).
 * PLACEHOLDERS until the index fixture's names are settled: override with
 * ENVHELPER_TEST_PROJECT / ENVHELPER_TEST_QUERY.
 */
const PROJECT = process.env.ENVHELPER_TEST_PROJECT ?? 'sampleproject';
const QUERY = process.env.ENVHELPER_TEST_QUERY ?? PROJECT.slice(0, 6);

test.use({ autoGoto: true });

test.skip(
  !process.env.ENVHELPER_TEST_INDEX_URL,
  'needs a test package index: set ENVHELPER_TEST_INDEX_URL'
);

test('search as you type, then open the details of a result', async ({
  page
}, testInfo) => {
  await newNotebookWithKernel(page, 'envhelper-search.ipynb');
  const panel = await openEnvHelper(page);
  await expect(panel.locator('.jp-EnvHelper-pythonVersion')).toBeVisible({
    timeout: 60000
  });

  await panel.getByRole('tab', { name: 'Find packages' }).click();
  await panel.getByLabel('Search the package index').pressSequentially(QUERY, {
    delay: 30
  });

  const results = panel.getByRole('list', { name: 'Search results' });
  const hit = results.locator('.jp-EnvHelper-hitRow', {
    has: page.locator('.jp-EnvHelper-name', { hasText: PROJECT })
  });
  await expect(hit.first()).toBeVisible({ timeout: 30000 });
  await page.screenshot({ path: testInfo.outputPath('envhelper-search.png') });

  await hit.first().click();
  await expect(panel.locator('.jp-EnvHelper-detailsName')).toHaveText(PROJECT);
  // The plain-words fit for this kernel, and the versions.
  await expect(panel.getByRole('status')).not.toBeEmpty({ timeout: 30000 });
  await expect(panel.locator('.jp-EnvHelper-vulnerabilities')).not.toBeEmpty();
  const versions = panel.getByRole('list', { name: 'Versions' });
  await expect(
    versions.locator('.jp-EnvHelper-versionRow').first()
  ).toBeVisible();

  // Per-file fit on expand.
  await versions.locator('.jp-EnvHelper-versionRow').first().click();
  await expect(
    versions.locator('.jp-EnvHelper-versionDetail').first()
  ).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('envhelper-details.png') });

  await panel.getByRole('button', { name: 'Back to the list' }).click();
  await expect(panel.getByLabel('Search the package index')).toHaveValue(QUERY);
  await expect(hit.first()).toBeVisible();
});
