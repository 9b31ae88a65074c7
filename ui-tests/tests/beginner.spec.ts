import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { Locator } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

import { KERNELS_DIR, newNotebookWithKernel, PY311 } from './helpers';

test.use({ autoGoto: true });

test.skip(
  !process.env.ENVHELPER_TEST_INDEX_URL,
  'needs the test package index: set ENVHELPER_TEST_INDEX_URL'
);

// These tests change the shared throwaway 3.11 kernel (and put it back).
test.describe.configure({ mode: 'serial' });

const SIDEBAR = 250;

/**
 * Lay the panel out at the default sidebar width a beginner has.
 */
async function narrowPanel(page: IJupyterLabPageFixture): Promise<void> {
  await page.addStyleTag({
    content: `#jp-envhelper-panel { width: ${SIDEBAR}px !important; max-width: ${SIDEBAR}px !important; }`
  });
}

/**
 * Elements of the panel that stick out of it (horizontal overflow), as
 * "class: width" strings; [] when the layout fits.
 */
async function overflowing(panel: Locator): Promise<string[]> {
  return panel.evaluate(root => {
    const edge = root.getBoundingClientRect().right + 1;
    const out: string[] = [];
    if (root.scrollWidth > root.clientWidth + 1) {
      out.push(`panel scrollWidth ${root.scrollWidth} > ${root.clientWidth}`);
    }
    for (const el of Array.from(root.querySelectorAll('*'))) {
      const box = el.getBoundingClientRect();
      if (box.width > 0 && box.right > edge) {
        out.push(`${el.className || el.tagName}: right ${box.right} > ${edge}`);
      }
    }
    return out.slice(0, 10);
  });
}

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
  const banner = page.locator('.jp-NotebookPanel .jp-EnvHelper-rescue');
  await expect(banner).toBeVisible({ timeout: 30000 });
  return banner;
}

test('the beginner path at a 250 px sidebar: rescue, plan, cancel, install, undo asks first', async ({
  page
}, testInfo) => {
  await narrowPanel(page);
  const banner = await failImport(
    page,
    'envhelper-beginner.ipynb',
    'import envhelper_demo'
  );
  await expect(banner.locator('.jp-EnvHelper-rescueDistribution')).toHaveText(
    'envhelper-demo',
    { timeout: 60000 }
  );

  // The plan: the Install button says what it installs
  await banner.getByRole('button', { name: 'Install here' }).click();
  const panel = page.locator('#jp-envhelper-panel');
  await expect(panel).toBeVisible();
  const plan = panel.locator('.jp-EnvHelper-plan');
  const install = plan.getByRole('button', { name: 'Install', exact: true });
  await expect(install).toBeEnabled({ timeout: 60000 });
  await expect(install).toHaveText(/^Install \d+ packages?/);
  expect(await overflowing(panel)).toEqual([]);
  await page.screenshot({ path: testInfo.outputPath('beginner-plan.png') });

  // A cancelled plan: the banner says so, not "check the plan"
  await plan.getByRole('button', { name: 'Cancel', exact: true }).click();
  await expect(banner.locator('.jp-EnvHelper-rescueStep')).toHaveText(
    'The plan for envhelper-demo was closed: nothing was installed.'
  );

  // Install after all
  await banner.getByRole('button', { name: 'Install here' }).click();
  await expect(install).toBeEnabled({ timeout: 60000 });
  await install.click();
  const job = panel.locator('.jp-EnvHelper-job');
  await expect(job.locator('.jp-EnvHelper-outcome-succeeded')).toBeVisible({
    timeout: 120000
  });
  expect(await overflowing(panel)).toEqual([]);
  await job.getByRole('button', { name: 'Back to the list' }).click();

  // The environment header: the magic can be enabled here, in one click
  await expect(
    panel.getByRole('button', { name: 'Enable %envhelp in this kernel' })
  ).toBeVisible({ timeout: 30000 });
  expect(await overflowing(panel)).toEqual([]);
  await page.screenshot({ path: testInfo.outputPath('beginner-panel.png') });

  // Undo asks first, showing what it will change; Keep changes nothing
  await panel.getByRole('tab', { name: 'History' }).click();
  const entry = panel.locator('.jp-EnvHelper-historyEntry').first();
  await expect(entry).toContainText('envhelper-demo', { timeout: 30000 });
  await entry.getByRole('button', { name: /^Undo/ }).click();
  const confirm = entry.locator('.jp-EnvHelper-undoConfirm');
  await expect(confirm).toContainText('remove envhelper-demo', {
    timeout: 60000
  });
  expect(await overflowing(panel)).toEqual([]);
  await page.screenshot({ path: testInfo.outputPath('beginner-undo.png') });
  await entry.getByRole('button', { name: 'Keep as it is' }).click();
  await expect(confirm).toHaveCount(0);
  await expect(panel.locator('.jp-EnvHelper-job')).toHaveCount(0);

  // Confirm: the shared kernel is left without the demo package
  await entry.getByRole('button', { name: /^Undo/ }).click();
  await entry.getByRole('button', { name: 'Confirm undo' }).click();
  await expect(job.locator('.jp-EnvHelper-outcome-succeeded')).toBeVisible({
    timeout: 120000
  });
  await expect(job).not.toContainText('new version');
});

test('Enable %envhelp in this kernel plans the small kernel package', async ({
  page
}) => {
  test.skip(
    !fs.existsSync(path.join(KERNELS_DIR, PY311, 'kernel.json')),
    `the test kernel ${PY311} was not made (make_test_kernels.py)`
  );
  await narrowPanel(page);
  await newNotebookWithKernel(page, 'envhelper-enable.ipynb', PY311);
  await page.keyboard.press('Control+Shift+C');
  const input = page.locator('#modal-command-palette .lm-CommandPalette-input');
  await input.fill('Show Environment Helper');
  await page
    .locator('#modal-command-palette .lm-CommandPalette-item', {
      hasText: 'Show Environment Helper'
    })
    .first()
    .click();
  const panel = page.locator('#jp-envhelper-panel');
  const enable = panel.getByRole('button', {
    name: 'Enable %envhelp in this kernel'
  });
  await expect(enable).toBeVisible({ timeout: 60000 });
  await enable.click();
  const plan = panel.locator('.jp-EnvHelper-plan');
  // the pinned kernel-side package (its dependencies may not be on the test index)
  await expect(plan.locator('.jp-EnvHelper-detailsName')).toContainText(
    'jupyter-envhelper-kernel==',
    { timeout: 60000 }
  );
  await expect(plan).not.toContainText('Working out what would change', {
    timeout: 60000
  });
  expect(await overflowing(panel)).toEqual([]);
  await plan.getByRole('button', { name: 'Cancel', exact: true }).click();
});
