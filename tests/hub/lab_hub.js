// tests/hub/lab_hub.js HUB_URL USER [PASSWORD]: a student's first visit to
// the class's JupyterHub, in headless Chromium: the hub's login form, the
// spawn, JupyterLab at /user/USER/lab, the notebooks copied into the home,
// Run All on notebooks/00-welcome.ipynb with the C kernel (no error, output
// in every cell that prints). Screenshot: build/screenshots/hub-lab.png.
// Run by tests/hub/load.py when /usr/bin/chromium exists; needs the
// playwright-core that tools/build_lab.sh installs in build/frontends
// (NODE_PATH=build/frontends/node_modules, as tests/browser/run.sh sets).
'use strict';
const path = require('path');
const REPO = path.resolve(__dirname, '..', '..');
const { launch, until, notebookModel } = require(path.join(REPO, 'tests', 'browser', 'helpers'));

const [hub, user, password = 'any'] = process.argv.slice(2);
const model = page => notebookModel(page).catch(() => null);

(async () => {
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${hub}/hub/login`);
    await page.fill('#username_input', user);
    await page.fill('#password_input', password);
    await page.click('#login_submit');
    await page.waitForURL(new RegExp(`/user/${user}/lab`), { timeout: 180000 });
    console.log(`logged in; JupyterLab at ${page.url()}`);
    await page.goto(`${hub}/user/${user}/lab/tree/notebooks/00-welcome.ipynb?reset`);
    await page.locator('.jp-NotebookPanel:visible').first().waitFor({ timeout: 90000 });
    await until(async () => { const m = await model(page); return m && m.status === 'idle' && m; },
      60000, 'the kernel never became idle');
    await page.locator('.lm-MenuBar-item', { hasText: 'Run' }).first().click();
    await page.locator('.lm-Menu-item:not(.lm-mod-disabled) .lm-Menu-itemLabel', { hasText: /^Run All Cells$/ }).first().click();
    const m = await until(async () => {
      const m = await model(page);
      return m && m.status === 'idle' &&
        m.cells.every(c => c.type !== 'code' || (c.count !== null && c.state !== 'running')) && m;
    }, 120000, 'Run All did not finish');
    const code = m.cells.filter(c => c.type === 'code');
    const errors = code.filter(c => c.outputs.some(o => o.output_type === 'error'));
    const silent = code.filter(c => /printf|puts/.test(c.source) && !c.outputs.some(o => o.output_type === 'stream'));
    await page.screenshot({ path: path.join(REPO, 'build', 'screenshots', 'hub-lab.png') });
    console.log(`kernel "${m.kernel}": ${code.length} code cells ran, ${errors.length} errors, ${silent.length} printing cells without output`);
    if (m.kernel !== 'C (tcc)' || errors.length || silent.length) process.exit(1);
  } finally {
    await browser.close();
  }
})().catch(e => { console.error(e); process.exit(1); });
