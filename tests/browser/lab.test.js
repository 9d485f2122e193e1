// The C kernel in JupyterLab 4 (built from npm, served by Debian's
// jupyter_server), driven in headless Chromium the way a person uses it:
// the launcher, Run All on every bundled notebook, a compile error, editing
// and rerunning a cell, stopping an endless loop with the toolbar's
// interrupt button, restarting the kernel, both themes. Screenshots go to
// build/screenshots/lab-*.png. Run by tests/browser/run.sh.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { env, launch, newPage, shot, runtimeHas, contrastInPage, until, notebookModel, MEASURE } = require('./helpers');

const BASE = env('CK_LAB_URL');
const TOKEN = env('CK_TOKEN');
const NBDIR = env('CK_NOTEBOOK_DIR');
const BUNDLED = fs.readdirSync(NBDIR).filter(f => f.endsWith('.ipynb')).sort();

let browser, page;
before(async () => { browser = await launch(); page = await newPage(browser); });
after(async () => { if (browser) await browser.close(); });

// ---- reading the notebook that is open, through JupyterLab's own model ----
const model = () => notebookModel(page);
const stdout = cell => cell.outputs.filter(o => o.output_type === 'stream' && o.name === 'stdout')
  .map(o => Array.isArray(o.text) ? o.text.join('') : o.text).join('');
const measureOf = cell => cell.outputs.filter(o => o.output_type === 'display_data' &&
  MEASURE.test([].concat(o.data['text/plain'] || '').join('')));
const errorsOf = cell => cell.outputs.filter(o => o.output_type === 'error');
const codeCells = m => m.cells.map((c, i) => ({ ...c, index: i })).filter(c => c.type === 'code');
const cellLoc = i => page.locator('.jp-NotebookPanel:visible .jp-Notebook .jp-Cell').nth(i);

// Run All is done when every code cell has its count (JupyterLab sets it
// from the execute_reply, once the cell's output is in), none is queued or
// running, and the kernel is idle.
async function allRan(ms) {
  return until(async () => { const m = await model();
    return m.status === 'idle' && codeCells(m).every(c => c.count !== null && c.state !== 'running') && m; },
  ms, 'Run All did not run every code cell');
}

async function openNotebook(name) {
  await page.goto(`${BASE}/lab/tree/${name}?reset&token=${TOKEN}`);
  await page.locator('.jp-NotebookPanel:visible').first().waitFor({ timeout: 90000 });
  await until(async () => { const m = await model().catch(() => null); return m && m.status === 'idle' && m; },
    60000, `kernel for ${name} never became idle`);
}

async function menu(top, label) {
  await page.locator('.lm-MenuBar-item', { hasText: top }).first().click();
  await page.locator('.lm-Menu-item:not(.lm-mod-disabled) .lm-Menu-itemLabel', { hasText: new RegExp(`^${label}$`) }).first().click();
}

async function toolbar(command) {
  await page.locator(`.jp-NotebookPanel:visible .jp-Toolbar [data-command="${command}"]`).first().click();
}

// A new code cell under the last one, holding CODE, run with Ctrl+Enter.
async function appendAndRun(code) {
  const n = (await model()).cells.length;
  await cellLoc(n - 1).locator('.jp-InputArea').click();
  await page.keyboard.press('Escape');
  await toolbar('notebook:insert-cell-below');
  await until(async () => (await model()).cells.length === n + 1, 5000, 'no cell was inserted');
  await cellLoc(n).locator('.cm-content').click();
  await page.keyboard.insertText(code);
  await page.keyboard.press('Control+Enter');
  return n;
}

async function waitCellDone(i, ms = 30000) {
  return until(async () => {
    const m = await model();
    return m.status === 'idle' && m.cells[i].count !== null && m.cells[i].state !== 'running' && m.cells[i];
  }, ms, `cell ${i} did not finish`);
}

test('the launcher shows the C kernel with its logo', async () => {
  await page.goto(`${BASE}/lab?reset&token=${TOKEN}`);
  const card = page.locator('.jp-LauncherCard[title="C (tcc)"]').first();
  await card.waitFor({ timeout: 90000 });
  const img = await card.locator('img').first().evaluate(i => ({
    src: i.getAttribute('src'), w: i.naturalWidth, h: i.naturalHeight, complete: i.complete }));
  assert.match(img.src, /kernelspecs\/c\/logo-(64x64|svg)/, 'launcher card image is not the kernel logo');
  await until(async () => card.locator('img').first().evaluate(i => i.complete && i.naturalWidth > 0),
    10000, 'the logo did not load');
  await shot(page, 'lab-launcher.png');
});

for (const name of BUNDLED) {
  test(`Run All on notebooks/${name}`, async () => {
    await openNotebook(name);
    const before = await model();
    assert.equal(before.kernel, 'C (tcc)');
    // C highlighting: the editors are in C mode and colour keywords
    const hl = await cellLoc(codeCells(before)[0].index).evaluate(c => {
      const content = c.querySelector('.cm-content');
      const colours = new Set([...c.querySelectorAll('.cm-line span')].map(s => getComputedStyle(s).color));
      return { lang: content.getAttribute('data-language'), colours: colours.size };
    });
    // text/x-csrc: CodeMirror 6 reads C with its C/C++ grammar, named cpp
    assert.match(String(hl.lang), /^(c|cpp)$/, 'code cells are not edited as C');
    assert.ok(hl.colours >= 2, `no syntax colours in the first code cell (${hl.colours})`);

    await menu('Run', 'Run All Cells');
    const m = await allRan(120000);
    for (const c of codeCells(m)) {
      const where = `${name} cell ${c.index}: ${c.source.slice(0, 80)}`;
      assert.notEqual(c.count, null, `${where}: did not run`);
      if (!c.tags.includes('raises-exception'))
        assert.deepEqual(errorsOf(c).map(e => `${e.ename}: ${e.evalue}`), [], `${where}: error`);
      // the measurement line under every cell that ran without error (unless %measure is used)
      if (errorsOf(c).length === 0 && !/%measure/.test(c.source))
        assert.equal(measureOf(c).length, 1, `${where}: no measurement line`);
      if (/\b(printf|puts|putchar)\s*\(/.test(c.source) && !/raises-exception/.test(c.tags))
        assert.ok(stdout(c).length > 0 || c.outputs.length > 0, `${where}: printed nothing`);
      // SVG pictures (nb_display_svg, charts, memory maps): every SVG output
      // the kernel sent is drawn as a picture with a size.
      const svgs = c.outputs.filter(o => o.data && o.data['image/svg+xml']).length;
      if (svgs) {
        const drawn = await cellLoc(c.index).evaluate(el => [...el.querySelectorAll('.jp-RenderedSVG svg, .jp-RenderedSVG img')]
          .filter(s => { const r = s.getBoundingClientRect(); return r.width > 10 && r.height > 10; }).length);
        assert.equal(drawn, svgs, `${where}: ${svgs} SVG output(s), ${drawn} drawn`);
      }
    }
    if (name === '00-welcome.ipynb') {
      const all = codeCells(m).map(stdout).join('');
      assert.match(all, /^0\n1\n2\n/m, 'the loop over n = 3 did not print 0 1 2');
      assert.match(all, /4 squared is 16\n/);
      assert.equal((await page.locator('.jp-NotebookPanel:visible .jp-OutputArea-output').count()) > 0, true);
    }
    await shot(page, `lab-run-all-${name.replace(/\.ipynb$/, '')}.png`);
  });
}

test('stream, compile error, value, SVG; edit and rerun; interrupt; restart; themes', async () => {
  // A notebook of our own, made through the UI: File > New > Notebook would
  // ask for a kernel, so use the REST API, as the file browser does.
  const res = await page.request.put(`${BASE}/api/contents/ui-test.ipynb?token=${TOKEN}`, {
    data: { type: 'notebook', content: {
      nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: 'c', display_name: 'C (tcc)', language: 'c' } },
      cells: [{ cell_type: 'code', id: 'a', metadata: {}, outputs: [], execution_count: null,
                source: '#include <stdio.h>\nint n = 3;   /* a global */' },
              { cell_type: 'code', id: 'b', metadata: {}, outputs: [], execution_count: null,
                source: 'for (int i = 0; i < n; i++)\n    printf("line %d\\n", i);' }] } } });
  assert.equal(res.status(), 201);
  await openNotebook('ui-test.ipynb');
  // collapse the file browser: more room for the notebook in the screenshots
  await page.evaluate(() => window.jupyterapp.commands.execute('application:toggle-left-area'));

  // 1. run the two cells: stream output
  await cellLoc(0).locator('.cm-content').click();
  await page.keyboard.press('Shift+Enter');     // runs it, moves to the loop
  await page.keyboard.press('Control+Enter');   // runs the loop in place
  let c1 = await waitCellDone(1);
  assert.equal(stdout(c1), 'line 0\nline 1\nline 2\n');
  assert.equal((await cellLoc(1).locator('.jp-OutputArea-output').first().innerText()).trim(),
    'line 0\nline 1\nline 2');
  // the measurement line, drawn under the output
  assert.equal(measureOf(c1).length, 1, JSON.stringify(c1.outputs));
  const mline = cellLoc(1).locator('.jp-OutputArea-output', { hasText: /compile .* run / }).last();
  assert.match(await mline.innerText(), /^compile [\d.]+ \S+ · run [\d.]+ \S+ · heap .* · stack .* · faults \d+/);

  // 2. a compile error: one error output, ename CompileError, shown in red-ish stderr style
  const ie = await appendAndRun('int broken = ;');
  const ce = await waitCellDone(ie);
  const errs = errorsOf(ce);
  assert.equal(errs.length, 1, JSON.stringify(ce.outputs));
  assert.equal(errs[0].ename, 'CompileError');
  const errText = await cellLoc(ie).locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').first().innerText();
  // (JupyterLab shows the traceback, not ename: the traceback says what went wrong)
  assert.match(errText, /error/i);
  assert.match(errText, /int broken = ;/, 'the error does not show the offending line');

  // 3. a trailing expression shows its value
  const iv = await appendAndRun('n * 14');
  const cv = await waitCellDone(iv);
  const res3 = cv.outputs.find(o => o.output_type === 'execute_result');
  assert.ok(res3, JSON.stringify(cv.outputs));
  assert.equal(res3.data['text/plain'], '(int) 42');
  assert.deepEqual(res3.metadata, {});

  // 4. an SVG picture. ACTIVATES WHEN THE RUNTIME HAS nb_display_svg
  // (runtime/nb.h); until then it says it was skipped.
  if (runtimeHas('nb_display_svg')) {
    const is = await appendAndRun([
      '/* three bars, drawn as SVG */',
      'nb_display_svg("<svg xmlns=\'http://www.w3.org/2000/svg\' width=\'120\' height=\'40\'>"',
      '               "<rect id=\'ck-rect\' width=\'120\' height=\'40\' fill=\'#eee\'/>"',
      '               "<rect x=\'10\' y=\'20\' width=\'25\' height=\'20\' fill=\'#3a7\'/>"',
      '               "<rect x=\'47\' y=\'8\' width=\'25\' height=\'32\' fill=\'#37a\'/>"',
      '               "<rect x=\'84\' y=\'14\' width=\'25\' height=\'26\' fill=\'#a73\'/></svg>");'].join('\n'));
    const cs = await waitCellDone(is);
    const d = cs.outputs.find(o => o.data && o.data['image/svg+xml']);
    assert.ok(d, `no SVG output: ${JSON.stringify(cs.outputs)}`);
    assert.deepEqual(d.metadata, {});
    const box = await cellLoc(is).locator('.jp-RenderedSVG svg, .jp-RenderedSVG img').first()
      .evaluate(e => { const r = e.getBoundingClientRect(); return [Math.round(r.width), Math.round(r.height)]; });
    assert.deepEqual(box, [120, 40]);
  } else {
    console.log('SKIP SVG check: runtime/nb.h has no nb_display_svg yet');
  }

  // 5. edit the first cell, rerun it and the loop: the loop sees the new value
  await cellLoc(0).locator('.cm-content').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.type('#include <stdio.h>\nint n = 5;');
  await page.keyboard.press('Shift+Enter');     // runs it, moves to the loop
  await page.keyboard.press('Control+Enter');   // runs the loop in place
  c1 = await until(async () => { const m = await model();
    return m.status === 'idle' && stdout(m.cells[1]).includes('line 4') && m.cells[1]; }, 30000,
  'rerunning the edited cell and the loop did not print line 4');
  assert.equal(stdout(c1), 'line 0\nline 1\nline 2\nline 3\nline 4\n');
  assert.match((await model()).cells[0].source, /int n = 5;/);

  // the screenshots: everything above on screen, light then dark theme
  const checkReadable = async theme => {
    const sel = { stream: `.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stdout"]`,
                  error: `.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]`,
                  code: '.cm-line',
                  measurement: '.jp-OutputArea-output[data-mime-type="text/html"]' };
    // A theme's colours may fade in (CSS transitions): measured once the
    // background has the theme's brightness and two reads in a row agree.
    // (A style that turns transitions off breaks JupyterLab's theme switch.)
    const dark = theme === 'dark';
    for (const [what, s] of Object.entries(sel)) {
      let prev = null;
      const c = await until(async () => {
        const c = await page.locator(`.jp-NotebookPanel:visible ${s}`).first().evaluate(contrastInPage);
        const settled = (c.bgLuminance < 0.5) === dark && prev && prev.fg === c.fg && prev.bg === c.bg;
        prev = c;
        return settled && c;
      }, 20000, `the ${what} colours did not settle on the ${theme} theme`);
      console.log(`contrast ${theme} ${what}: ${c.ratio} (${c.fg} on ${c.bg})`);
      assert.ok(c.ratio >= 4.5, `${what} text is hard to read in the ${theme} theme: ${JSON.stringify(c)}`);
    }
  };
  await page.evaluate(() => window.jupyterapp.shell.currentWidget.content.node.scrollTo(0, 0));
  await checkReadable('light');
  await shot(page, 'lab-light.png');
  // Settings > Theme > JupyterLab Dark, as a person would
  await page.locator('.lm-MenuBar-item', { hasText: 'Settings' }).first().click();
  await page.locator('.lm-Menu-item', { hasText: /^Theme$/ }).first().hover();
  await page.locator('.lm-Menu-item[data-command="apputils:change-theme"]', { hasText: 'JupyterLab Dark' }).first().click();
  await until(() => page.evaluate(() => document.body.dataset.jpThemeLight === 'false'), 20000,
    'the dark theme did not apply');
  await checkReadable('dark');
  await shot(page, 'lab-dark.png');
  await page.evaluate(() => window.jupyterapp.commands.execute('apputils:change-theme', { theme: 'JupyterLab Light' }));
  await until(() => page.evaluate(() => document.body.dataset.jpThemeLight === 'true'), 20000, 'back to light');

  // 6. an endless loop, stopped with the toolbar's interrupt button
  const il = await appendAndRun('for (;;);');
  // the kernel has the request once it says busy; an interrupt that comes
  // before the loop starts is held by the kernel until it does
  await until(async () => (await model()).status === 'busy', 10000, 'the loop did not start');
  const t0 = Date.now();
  await toolbar('notebook:interrupt-kernel');
  const cl = await waitCellDone(il, 10000);
  const interruptMs = Date.now() - t0;
  assert.deepEqual(errorsOf(cl).map(e => e.ename), ['KeyboardInterrupt']);
  console.log(`interrupt from the toolbar: cell ended ${interruptMs} ms after the click`);
  assert.ok(interruptMs < 3000, `interrupt took ${interruptMs} ms`);
  // the session carries on, globals intact
  await cellLoc(1).locator('.cm-content').click();
  await page.keyboard.press('Control+Enter');
  await until(async () => { const m = await model(); return m.status === 'idle' && m.cells[1].count > cl.count && m; },
    20000, 'the loop cell did not run after the interrupt');
  assert.equal(stdout((await model()).cells[1]), 'line 0\nline 1\nline 2\nline 3\nline 4\n');

  // 7. restart from the toolbar (and confirm the dialog): definitions are gone
  // done when the kernel went through 'restarting' and is idle again (not
  // when the old one still says idle)
  await page.evaluate(() => { const ctx = window.jupyterapp.shell.currentWidget.sessionContext;
    window.ckRestarting = false;
    ctx.statusChanged.connect((_, s) => { if (s === 'restarting' || s === 'autorestarting') window.ckRestarting = true; }); });
  await toolbar('notebook:restart-kernel');
  await page.locator('.jp-Dialog .jp-mod-accept').click();
  await until(async () => await page.evaluate(() => window.ckRestarting) && (await model()).status === 'idle',
    30000, 'kernel did not come back after restart');
  await cellLoc(1).locator('.cm-content').click();
  await page.keyboard.press('Control+Enter');
  const cr = await waitCellDone(1);
  assert.equal(cr.count, 1, 'the execution count did not start again at 1');
  assert.deepEqual(errorsOf(cr).map(e => e.ename), ['CompileError'], '`n` survived the restart');
  await cellLoc(0).locator('.cm-content').click();
  await page.keyboard.press('Shift+Enter');     // runs it, moves to the loop
  await page.keyboard.press('Control+Enter');   // runs the loop in place
  const c2 = await until(async () => { const m = await model();
    return m.status === 'idle' && m.cells[1].count === 3 && m.cells[1]; }, 20000, 'rerun after restart');
  assert.equal(stdout(c2), 'line 0\nline 1\nline 2\nline 3\nline 4\n');
  assert.deepEqual(page.problems.filter(p => !/events\/subscribe/.test(p)), []);
});
