/**
 * Issue 14, the rest of its browser tests: after a kernel switch the panel
 * body follows the new kernel (no old job text), and the panel renders with
 * the theme's colours in JupyterLab Dark. The light and dark screenshots of
 * the main views (docs/screenshots/) come from here.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { Locator } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

import {
  KERNELS_DIR,
  newNotebookWithKernel,
  openEnvHelper,
  PY311,
  PY312
} from './helpers';

test.use({ autoGoto: true });

test.skip(
  !process.env.ENVHELPER_TEST_INDEX_URL,
  'needs the test package index: set ENVHELPER_TEST_INDEX_URL'
);

// The switch test changes the shared throwaway 3.11 kernel (and puts it back).
test.describe.configure({ mode: 'serial' });

function needKernel(name: string): void {
  test.skip(
    !fs.existsSync(path.join(KERNELS_DIR, name, 'kernel.json')),
    `the test kernel ${name} was not made (make_test_kernels.py)`
  );
}

/** Switch the current notebook's kernel, as the kernel picker does. */
async function switchKernel(
  page: IJupyterLabPageFixture,
  name: string
): Promise<void> {
  await page.evaluate(async kernel => {
    const app = (window as any).jupyterapp;
    await app.shell.currentWidget.sessionContext.changeKernel({ name: kernel });
  }, name);
  await page
    .locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
    .waitFor({ timeout: 60000 });
}

/** Plan what is typed into the one search box. */
async function planTyped(
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

test('after a kernel switch the panel body follows the new kernel', async ({
  page
}) => {
  needKernel(PY311);
  needKernel(PY312);
  test.setTimeout(300000);
  await newNotebookWithKernel(page, 'envhelper-follow.ipynb', PY311);
  const panel = await openEnvHelper(page);
  const version = panel.locator('.jp-EnvHelper-pythonVersion');
  await expect(version).toHaveText(/^3\.11/, { timeout: 60000 });

  // A job in the 3.11 kernel: its view shows, with phases while it runs
  const plan = await planTyped(panel, 'envhelper-demo');
  const install = plan.getByRole('button', { name: 'Install', exact: true });
  await expect(install).toBeEnabled({ timeout: 60000 });
  await install.click();
  const job = panel.locator('.jp-EnvHelper-job');
  await expect(job.locator('.jp-EnvHelper-outcome-succeeded')).toBeVisible({
    timeout: 120000
  });
  await expect(job).toContainText('envhelper-demo');

  // Switch: the body is the 3.12 kernel's, the 3.11 job text is gone
  await switchKernel(page, PY312);
  await expect(version).toHaveText(/^3\.12/, { timeout: 60000 });
  await expect(job).toHaveCount(0);
  await expect(panel.locator('.jp-EnvHelper-outcome-succeeded')).toHaveCount(0);
  // Back to 3.11: put the shared kernel back (undo the install)
  await switchKernel(page, PY311);
  await expect(version).toHaveText(/^3\.11/, { timeout: 60000 });
  await panel.getByRole('tab', { name: 'History' }).click();
  const entry = panel.locator('.jp-EnvHelper-historyEntry').first();
  await expect(entry).toContainText('envhelper-demo', { timeout: 30000 });
  await entry.getByRole('button', { name: /^Undo/ }).click();
  await entry.getByRole('button', { name: 'Confirm undo' }).click();
  await expect(job.locator('.jp-EnvHelper-outcome-succeeded')).toBeVisible({
    timeout: 120000
  });
});

/** The colour an element shows: its own background or the first one behind it. */
async function shownBackground(el: Locator): Promise<number[]> {
  return el.evaluate(node => {
    let e: Element | null = node;
    while (e) {
      const c = getComputedStyle(e).backgroundColor;
      const m = c.match(/[\d.]+/g)?.map(Number) ?? [];
      if (m.length >= 3 && (m.length < 4 || m[3] > 0)) {
        return m.slice(0, 3);
      }
      e = e.parentElement;
    }
    return [255, 255, 255];
  });
}

async function textColour(el: Locator): Promise<number[]> {
  return el.evaluate(node =>
    (getComputedStyle(node).color.match(/[\d.]+/g) ?? [])
      .slice(0, 3)
      .map(Number)
  );
}

function lightness(rgb: number[]): number {
  const [r, g, b] = rgb;
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}

test('the panel renders with the theme colours, light and dark (screenshots)', async ({
  page
}, testInfo) => {
  needKernel(PY311);
  test.setTimeout(240000);
  await newNotebookWithKernel(page, 'envhelper-theme.ipynb', PY311);
  const panel = await openEnvHelper(page);
  await expect(panel.locator('.jp-EnvHelper-pythonVersion')).toHaveText(
    /^3\.11/,
    {
      timeout: 60000
    }
  );
  const shots = path.resolve(__dirname, '..', '..', 'docs', 'screenshots');
  for (const theme of ['light', 'dark'] as const) {
    if (theme === 'dark') {
      await page.theme.setDarkTheme();
    } else {
      await page.theme.setLightTheme();
    }
    await panel.getByRole('tab', { name: 'Installed' }).click();
    const row = panel.locator('.jp-EnvHelper-distribution').first();
    await expect(row).toBeVisible({ timeout: 30000 });
    const background = lightness(await shownBackground(panel));
    const text = lightness(await textColour(row.locator('.jp-EnvHelper-name')));
    const box = lightness(
      await shownBackground(panel.getByLabel('Filter installed packages'))
    );
    if (theme === 'dark') {
      expect(background).toBeLessThan(0.35); // not white: the theme's dark layout colour
      expect(text).toBeGreaterThan(0.6);
      expect(box).toBeLessThan(0.35);
    } else {
      expect(background).toBeGreaterThan(0.85);
      expect(text).toBeLessThan(0.4);
    }
    expect(Math.abs(text - background)).toBeGreaterThan(0.45); // readable
    await panel.screenshot({ path: testInfo.outputPath(`panel-${theme}.png`) });

    // Find packages: one box, its plan action; then the plan
    await panel.getByRole('tab', { name: 'Find packages' }).click();
    await panel.getByLabel('Search the package index').fill('envhelper-demo');
    const action = panel.getByRole('button', {
      name: 'Plan install of envhelper-demo',
      exact: true
    });
    await expect(action).toBeVisible();
    await expect(panel.locator('.jp-EnvHelper-hit').first()).toBeVisible({
      timeout: 30000
    });
    if (theme === 'dark') {
      expect(lightness(await shownBackground(action))).toBeLessThan(0.5);
    }
    await panel.screenshot({
      path: testInfo.outputPath(`search-${theme}.png`)
    });
    await action.click();
    const plan = panel.locator('.jp-EnvHelper-plan');
    await expect(
      plan.getByRole('button', { name: 'Install', exact: true })
    ).toBeEnabled({
      timeout: 60000
    });
    await panel.screenshot({ path: testInfo.outputPath(`plan-${theme}.png`) });
    await plan.getByRole('button', { name: 'Cancel', exact: true }).click();
    await expect(plan).toHaveCount(0);
  }
  if (process.env.ENVHELPER_UPDATE_SCREENSHOTS) {
    for (const name of ['panel', 'search', 'plan']) {
      for (const theme of ['light', 'dark']) {
        fs.copyFileSync(
          testInfo.outputPath(`${name}-${theme}.png`),
          path.join(shots, `${name}-${theme}.png`)
        );
      }
    }
  }
  await page.theme.setLightTheme();
});
