// The C kernel in Debian's classic Notebook 6.4, driven in headless
// Chromium: Run All on the welcome notebook, C highlighting, a compile
// error, edit and rerun, the toolbar's interrupt and restart buttons.
// Screenshot: build/screenshots/classic.png. Run by tests/browser/run.sh.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { env, launch, newPage, shot, until } = require('./helpers');

const BASE = env('CK_CLASSIC_URL');
const TOKEN = env('CK_TOKEN');

let browser, page;
before(async () => { browser = await launch(); page = await newPage(browser, { width: 1100, height: 1000 }); });
after(async () => { if (browser) await browser.close(); });

// The notebook as Notebook's own model holds it.
const model = () => page.evaluate(() => ({
  idle: Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected() &&
        !!document.querySelector('#kernel_indicator_icon.kernel_idle_icon'),
  running: Jupyter.notebook.get_cells().some(c => c.cell_type === 'code' && c.running),
  cells: Jupyter.notebook.get_cells().map(c => ({
    type: c.cell_type, source: c.get_text(), count: c.input_prompt_number ?? null,
    outputs: c.cell_type === 'code' ? JSON.parse(JSON.stringify(c.output_area.outputs)) : [] })),
}));
const stdout = c => c.outputs.filter(o => o.output_type === 'stream' && o.name === 'stdout').map(o => o.text).join('');
const errorsOf = c => c.outputs.filter(o => o.output_type === 'error');
const cellLoc = i => page.locator('#notebook-container > .cell').nth(i);
const button = action => page.locator(`#maintoolbar button[data-jupyter-action="jupyter-notebook:${action}"]`);

async function settled(ms = 30000) {
  return until(async () => { const m = await model(); return m.idle && !m.running && m; }, ms,
    'the kernel did not settle to idle');
}
async function waitCell(i, pred, ms = 30000, what = `cell ${i}`) {
  return until(async () => { const m = await model(); return m.idle && !m.running && pred(m.cells[i]) && m.cells[i]; },
    ms, `${what} did not finish as expected`);
}
// A new code cell at the end holding CODE, run in place (Ctrl+Enter).
async function appendAndRun(code) {
  const n = (await model()).cells.length;
  await page.evaluate(n => { Jupyter.notebook.select(n - 1); Jupyter.notebook.command_mode(); }, n);
  await button('insert-cell-below').click();
  await cellLoc(n).locator('.CodeMirror').click();
  await page.keyboard.insertText(code);
  await page.keyboard.press('Control+Enter');
  return n;
}

test('classic Notebook: run all, error, edit, interrupt, restart', async () => {
  await page.goto(`${BASE}/notebooks/00-welcome.ipynb?token=${TOKEN}`);
  await until(() => page.evaluate(() => window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel &&
    Jupyter.notebook.kernel.is_connected()), 60000, 'no kernel connection');
  await settled(60000);
  assert.equal((await page.locator('#kernel_indicator .kernel_indicator_name').innerText()).trim(), 'C (tcc)');
  // C highlighting from language_info's codemirror_mode
  const hl = await page.evaluate(() => {
    const c = Jupyter.notebook.get_cells().find(c => c.cell_type === 'code');
    return { mode: c.code_mirror.getOption('mode'), keywords: c.element[0].querySelectorAll('.cm-keyword, .cm-type, .cm-meta').length };
  });
  assert.match(JSON.stringify(hl.mode), /x-csrc|clike/, `cells are not edited as C: ${JSON.stringify(hl)}`);
  assert.ok(hl.keywords > 0, 'no C keywords highlighted');

  // Run All from the Cell menu
  await page.click('#celllink');
  await page.click('#run_all_cells > a');
  // done when every code cell ran and the last one's output is in (the
  // Notebook sets a count from execute_input, before the output arrives)
  const welcomeDone = m => m.idle && !m.running && m.cells.filter(c => c.type === 'code').every(c => c.count !== null) &&
    /4 squared is 16\n/.test(m.cells.map(stdout).join(''));
  let m = await until(async () => { const m = await model(); return welcomeDone(m) && m; },
    60000, 'Run All did not finish with the output of every cell');
  const all = m.cells.map(stdout).join('');
  assert.match(all, /^0\n1\n2\n/m);
  assert.match(all, /4 squared is 16\n/);
  assert.deepEqual(m.cells.flatMap(errorsOf), []);
  const first = m.cells.findIndex(c => c.type === 'code');
  const loop = m.cells.findIndex(c => /printf\("%d\\n", i\)/.test(c.source));
  assert.ok(loop > first, 'the welcome notebook changed: no loop over n printing %d');

  // a compile error: one error output, ename CompileError, drawn as an error
  const ie = await appendAndRun('int broken = ;');
  const ce = await waitCell(ie, c => c.count !== null && errorsOf(c).length > 0, 30000, 'the compile error');
  assert.deepEqual(errorsOf(ce).map(e => e.ename), ['CompileError']);
  const errText = await cellLoc(ie).locator('.output_error').innerText();
  assert.match(errText, /int broken = ;/);

  // edit the first code cell (n = 4) and rerun it and the loop
  const countBefore = m.cells[first].count;
  await cellLoc(first).locator('.CodeMirror').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.type('#include <stdio.h>\nint n = 4;');
  await page.keyboard.press('Control+Enter');
  // ('*' while it runs, then the new count)
  await waitCell(first, c => /n = 4/.test(c.source) && typeof c.count === 'number' && c.count > countBefore);
  await cellLoc(loop).locator('.CodeMirror').click();
  await page.keyboard.press('Control+Enter');
  const cl = await waitCell(loop, c => stdout(c) === '0\n1\n2\n3\n', 30000, 'the loop after the edit');
  assert.equal(stdout(cl), '0\n1\n2\n3\n');

  // an endless loop, stopped with the toolbar's interrupt button
  const il = await appendAndRun('for (;;);');
  // the kernel has the request once it says busy; an interrupt that comes
  // before the loop starts is held by the kernel until it does
  await until(() => page.evaluate(() => !!document.querySelector('#kernel_indicator_icon.kernel_busy_icon')),
    10000, 'the loop did not start');
  const t0 = Date.now();
  await button('interrupt-kernel').click();
  const ci = await waitCell(il, c => c.count !== null && errorsOf(c).length > 0, 10000, 'the interrupted loop');
  console.log(`classic interrupt: ${Date.now() - t0} ms from the click`);
  assert.deepEqual(errorsOf(ci).map(e => e.ename), ['KeyboardInterrupt']);
  await shot(page, 'classic.png');

  // restart from the toolbar, confirm: the global n is gone. Done when the
  // Notebook says the restarted kernel is ready (not when the old one is idle).
  await page.evaluate(() => { window.ckRestarted = false;
    Jupyter.notebook.events.one('kernel_ready.Kernel', () => { window.ckRestarted = true; }); });
  await button('confirm-restart-kernel').click();
  await page.locator('.modal-dialog button.btn-danger').click();
  await until(() => page.evaluate(() => window.ckRestarted && Jupyter.notebook.kernel.is_connected() &&
    !!document.querySelector('#kernel_indicator_icon.kernel_idle_icon')), 30000, 'restart');
  await cellLoc(loop).locator('.CodeMirror').click();
  await page.keyboard.press('Control+Enter');
  const cr = await waitCell(loop, c => c.count === 1 && errorsOf(c).length > 0, 30000, 'the loop after the restart');
  assert.deepEqual(errorsOf(cr).map(e => e.ename), ['CompileError'], '`n` survived the restart');
  assert.deepEqual(page.problems, []);
});
