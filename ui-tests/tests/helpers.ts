import { IJupyterLabPageFixture } from '@jupyterlab/galata';
import { Locator } from '@playwright/test';
import * as path from 'path';

/**
 * Open the Environment Helper through the command palette, as a user would.
 */
export async function openEnvHelper(
  page: IJupyterLabPageFixture
): Promise<Locator> {
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
  await panel.waitFor({ state: 'visible' });
  return panel;
}

/**
 * Create a notebook and wait until its kernel is idle.
 */
export async function newNotebookWithKernel(
  page: IJupyterLabPageFixture,
  name: string,
  kernel?: string
): Promise<void> {
  await page.notebook.createNew(name, kernel ? { kernel } : undefined);
  await page
    .locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
    .waitFor({ timeout: 60000 });
}

/**
 * Run a code cell and return its text output, trimmed.
 */
export async function runCode(
  page: IJupyterLabPageFixture,
  index: number,
  code: string
): Promise<string> {
  await page.notebook.setCell(index, 'code', code);
  await page.notebook.runCell(index);
  return ((await page.notebook.getCellTextOutput(index)) ?? []).join('').trim();
}

/**
 * The kernels made by make_test_kernels.py (run by playwright.config.js).
 */
export const KERNELS_DIR = path.join(
  process.env.ENVHELPER_TEST_KERNELS_DIR ?? '',
  'jupyter',
  'kernels'
);
export const PY311 = 'py311-envhelper-test';
export const PY312 = 'py312-envhelper-test';
