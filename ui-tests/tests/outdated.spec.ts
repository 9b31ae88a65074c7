import { expect, test } from '@jupyterlab/galata';
import * as fs from 'fs';
import * as path from 'path';

import {
  KERNELS_DIR,
  newNotebookWithKernel,
  openEnvHelper,
  PY311
} from './helpers';

test.use({ autoGoto: true });

test.skip(
  !process.env.ENVHELPER_TEST_INDEX_URL,
  'needs the test package index: set ENVHELPER_TEST_INDEX_URL'
);

// numx 2.0 breaks pands (needs numx<2); numx 1.5 and tools 1.1 fit
// (tests/currency_dists.py, served by the test index).
test('Outdated filter, Update all shows the breakage, the safe update installs, history', async ({
  page
}, testInfo) => {
  test.setTimeout(6 * 60 * 1000); // three installs into a real kernel environment
  test.skip(
    !fs.existsSync(path.join(KERNELS_DIR, PY311, 'kernel.json')),
    `the test kernel ${PY311} was not made (make_test_kernels.py)`
  );
  await newNotebookWithKernel(page, 'envhelper-outdated.ipynb', PY311);
  const panel = await openEnvHelper(page);
  await expect(panel.locator('.jp-EnvHelper-pythonVersion')).toHaveText(
    /^3\.11/,
    { timeout: 60000 }
  );

  // Given old versions installed through the panel
  await panel.getByRole('tab', { name: 'Find packages' }).click();
  await panel
    .getByLabel('Search the package index')
    .fill('numx==1.0 pands tools==1.0');
  // a requirement (it has "=="): Enter plans it
  await panel.getByLabel('Search the package index').press('Enter');
  const first = panel.locator('.jp-EnvHelper-plan');
  const install = first.getByRole('button', { name: 'Install', exact: true });
  await expect(install).toBeEnabled({ timeout: 60000 });
  await install.click();
  const job = panel.locator('.jp-EnvHelper-job');
  await expect(job.locator('.jp-EnvHelper-outcome')).toBeVisible({
    timeout: 120000
  });
  await job.getByRole('button', { name: 'Back to the list' }).click();

  // When the installed list shows only what is outdated
  await panel.getByRole('tab', { name: /^Installed/ }).click();
  await panel.getByRole('button', { name: 'Outdated', exact: true }).click();
  const numx = panel.locator('.jp-EnvHelper-outdatedItem', {
    hasText: 'numx'
  });
  await expect(numx).toContainText('1.0 → 1.5', { timeout: 60000 });
  await expect(numx).toContainText('would break pands');
  await expect(
    panel.locator('.jp-EnvHelper-outdatedItem', { hasText: 'tools' })
  ).toContainText('1.0 → 1.1');
  await page.screenshot({ path: testInfo.outputPath('outdated-list.png') });

  // And "Update all" is asked for: the plan names what it would break
  await panel.getByRole('button', { name: 'Update all', exact: true }).click();
  const plan = panel.locator('.jp-EnvHelper-plan');
  const breaks = plan.locator('.jp-EnvHelper-breaks');
  await expect(breaks).toContainText('pands', { timeout: 60000 });
  await expect(breaks).toContainText('numx');
  await page.screenshot({ path: testInfo.outputPath('outdated-plan.png') });

  // Then the user takes the safe way: back, and "Update all that fit"
  await plan.getByRole('button', { name: 'Back to the list' }).click();
  await panel
    .getByRole('button', { name: 'Update all that fit', exact: true })
    .click();
  await expect(plan).toContainText('numx==1.5', { timeout: 60000 });
  await expect(plan.locator('.jp-EnvHelper-breaks')).toHaveCount(0);
  const confirm = plan.getByRole('button', { name: 'Install', exact: true });
  await expect(confirm).toBeEnabled({ timeout: 60000 });
  await confirm.click();
  await expect(job.locator('.jp-EnvHelper-outcome')).toBeVisible({
    timeout: 120000
  });
  await expect(job).toHaveClass(/jp-EnvHelper-job-succeeded/);
  await job.getByRole('button', { name: 'Back to the list' }).click();
  // one job in the history, and numx is now held back at the newest that fits
  await panel.getByRole('tab', { name: 'History' }).click();
  const latest = panel.locator('.jp-EnvHelper-historyEntry').first();
  await expect(latest).toContainText('numx==1.5', { timeout: 120000 });
  await expect(latest).toHaveClass(/jp-EnvHelper-job-succeeded/);
  await panel.getByRole('tab', { name: /^Installed/ }).click();
  await expect(
    panel.locator('.jp-EnvHelper-outdatedItem', { hasText: 'numx' })
  ).toContainText('no newer version fits', { timeout: 60000 });
  // The graph: pands (asked for) on top, numx under it, marked outdated; a
  // keyboard tree for screen readers beside the picture
  await panel.getByRole('button', { name: 'Graph', exact: true }).click();
  const tree = panel.getByRole('tree', { name: 'Dependencies' });
  const pands = tree.getByRole('treeitem', { name: /^pands 1\.0/ });
  await expect(pands).toBeVisible({ timeout: 60000 });
  await expect(panel.locator('.jp-EnvHelper-graphSvg')).toBeVisible();
  await pands.focus();
  await page.keyboard.press('ArrowRight');
  await expect(pands).toHaveAttribute('aria-expanded', 'true');
  await expect(
    pands.getByRole('treeitem', { name: /^numx 1\.5, \(needs numx<2\)/ })
  ).toHaveAttribute('aria-label', /newer: 2\.0/);
  await page.screenshot({ path: testInfo.outputPath('outdated-graph.png') });
  await panel.getByRole('tab', { name: 'History' }).click();

  // And undo puts the old versions back (the next tests share this kernel)
  await latest.getByRole('button', { name: /^Undo/ }).click();
  await latest.getByRole('button', { name: 'Confirm undo' }).click(); // undo asks first
  await expect(job.locator('.jp-EnvHelper-outcome')).toBeVisible({
    timeout: 120000
  });
  await expect(job).toHaveClass(/jp-EnvHelper-job-succeeded/);
});
