import { expect, test } from '@jupyterlab/galata';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import {
  KERNELS_DIR,
  newNotebookWithKernel,
  openEnvHelper,
  PY311,
  runCode
} from './helpers';

test.use({ autoGoto: true });

test.skip(
  !process.env.ENVHELPER_TEST_INDEX_URL,
  'needs the test package index: set ENVHELPER_TEST_INDEX_URL'
);

// The new kernel's name: the plan proposes py312-envhelper-new for this request.
const NEW_KERNEL = 'py312-envhelper-new';
const WHEELHOUSE = path.join(
  process.env.ENVHELPER_TEST_WHEELHOUSE ??
    path.join(process.env.HOME ?? '', '.cache', 'jupyter-envhelper-tests'),
  'wheelhouse-cp312'
);

/**
 * Remove what a run made (the environment and its kernelspec), through the
 * project's own command, which deletes only environments it created.
 */
function cleanUp(): void {
  try {
    execFileSync(
      'python',
      [
        '-m',
        'jupyter_envhelper',
        'environments',
        'delete',
        NEW_KERNEL,
        '--yes'
      ],
      { stdio: 'pipe' } // PATH's python: the venv's (ui-tests/../.venv/bin)
    );
  } catch {
    // nothing to delete
  }
}

test.beforeAll(cleanUp);
test.afterAll(cleanUp);

test('no kernel fits: a new environment and kernel in one click, then the notebook runs on it', async ({
  page
}, testInfo) => {
  test.skip(
    !fs.existsSync(path.join(KERNELS_DIR, PY311, 'kernel.json')),
    `the test kernel ${PY311} was not made (make_test_kernels.py)`
  );
  test.skip(
    !fs.existsSync(WHEELHOUSE),
    'the ipykernel wheels for 3.12 are not cached (the pytest run makes them)'
  );
  test.setTimeout(300000);
  await newNotebookWithKernel(page, 'envhelper-newenv.ipynb', PY311);
  const panel = await openEnvHelper(page);
  await expect(panel.locator('.jp-EnvHelper-pythonVersion')).toHaveText(
    /^3\.11/,
    { timeout: 60000 }
  );

  // envhelper-new needs Python >= 3.12: blocked on the 3.11 kernel.
  await panel.getByRole('tab', { name: 'Find packages' }).click();
  await panel.getByLabel('Search the package index').fill('envhelper-new');
  await panel
    .getByRole('button', { name: 'Plan install of envhelper-new', exact: true })
    .click();
  const plan = panel.locator('.jp-EnvHelper-plan');
  await expect(
    plan.getByRole('button', { name: 'Install', exact: true })
  ).toBeDisabled({ timeout: 60000 });
  const suggestion = plan.locator(
    '.jp-EnvHelper-suggestion.jp-EnvHelper-rank-new-environment'
  );
  await expect(suggestion).toContainText(
    'Create a new environment with Python 3.12 and envhelper-new',
    { timeout: 120000 }
  );
  await page.screenshot({ path: testInfo.outputPath('newenv-suggested.png') });
  await suggestion
    .getByRole('button', { name: 'Create a new environment' })
    .click();

  // The plan of the new environment, before anything is made.
  const view = panel.locator('.jp-EnvHelper-newEnv');
  await expect(view.locator('.jp-EnvHelper-newEnvPython')).toContainText(
    'Python 3.12',
    { timeout: 120000 }
  );
  // (what the view says, in the log, when the next step fails)
  console.log('new environment view:', await view.innerText());
  await expect(view.locator('.jp-EnvHelper-newEnvSummary')).toContainText(
    'packages to install'
  );
  await expect(view.locator('.jp-EnvHelper-newEnvNameInput')).toHaveValue(
    NEW_KERNEL
  );
  await page.screenshot({ path: testInfo.outputPath('newenv-plan.png') });
  await view
    .getByRole('button', { name: 'Create environment and kernel' })
    .click();

  // Progress, then the notebook switches to the new kernel.
  await expect(view.locator('.jp-EnvHelper-newEnvProgress')).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('newenv-progress.png') });
  await expect(
    view
      .locator('.jp-EnvHelper-newEnvDone')
      .or(view.locator('.jp-EnvHelper-error'))
  ).toBeVisible({ timeout: 240000 });
  console.log('new environment view:', await view.innerText());
  await expect(view.locator('.jp-EnvHelper-newEnvDone')).toBeVisible();
  await expect(
    page.locator('.jp-NotebookPanel-toolbar .jp-Toolbar-kernelName')
  ).toHaveText(/py312-envhelper-new/, { timeout: 60000 });
  await page
    .locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
    .waitFor({ timeout: 60000 });
  expect(
    await runCode(
      page,
      0,
      'import sys, envhelper_new; print("%d.%d" % sys.version_info[:2], envhelper_new.__name__)'
    )
  ).toBe('3.12 envhelper_new');
  await page.screenshot({ path: testInfo.outputPath('newenv-done.png') });
  // leave the kernel before the clean-up removes its environment
  await page.notebook.close(false);
});
