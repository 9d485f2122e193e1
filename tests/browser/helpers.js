// Shared by the browser tests: the servers tests/browser/run.sh started, a
// headless Debian Chromium, and small checks (contrast of text on its
// background, what the runtime offers).
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const REPO = path.resolve(__dirname, '..', '..');
const env = name => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the browser tests with tests/browser/run.sh (make test-browser)`);
  return v;
};

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage'];

async function launch() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS, headless: true });
}

// A page that records what went wrong in it, for the failure message.
async function newPage(browser, viewport = { width: 1280, height: 900 }) {
  const page = await browser.newPage({ viewport });
  page.problems = [];
  page.on('pageerror', e => page.problems.push('pageerror: ' + String(e).slice(0, 300)));
  return page;
}

async function shot(page, name) {
  const file = path.join(env('CK_SHOTS'), name);
  await page.screenshot({ path: file });
  console.log(`screenshot: ${path.relative(REPO, file)}`);
  return file;
}

// Does the runtime the worker was built with declare NAME? (The header the
// worker compiles cells against is runtime/nb.h.) Checks that need a runtime
// feature activate once it has landed, and say so when they are skipped.
function runtimeHas(name) {
  const h = fs.readFileSync(path.join(REPO, 'runtime', 'nb.h'), 'utf8');
  return new RegExp(`\\b${name}\\s*\\(`).test(h);
}

// WCAG contrast ratio of an element's text colour on the background it is
// painted on (the first non-transparent background up the tree). Run in the page.
function contrastInPage(el) {
  const rgb = s => (s.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  // the colour of the text itself: the element with the most text in it
  let textEl = el, best = 0;
  for (const e of [el, ...el.querySelectorAll('*')]) {
    const own = [...e.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent.trim()).join('');
    if (own.length > best) { best = own.length; textEl = e; }
  }
  // the background: the layers up the tree, composited from the first opaque one
  const layers = [];
  for (let e = textEl; e; e = e.parentElement) {
    const c = rgb(getComputedStyle(e).backgroundColor);
    if (c.length < 3 || c[3] === 0) continue;
    layers.push(c);
    if (c.length < 4 || c[3] >= 1) break;
  }
  let bg = [255, 255, 255];
  for (const c of layers.reverse()) {
    const a = c.length < 4 ? 1 : c[3];
    bg = bg.map((v, i) => v * (1 - a) + c[i] * a);
  }
  const fc = rgb(getComputedStyle(textEl).color);
  let fa = fc.length < 4 ? 1 : fc[3];
  for (let e = textEl; e && e !== document.body; e = e.parentElement) fa *= Number(getComputedStyle(e).opacity);
  const fg = bg.map((v, i) => v * (1 - fa) + fc[i] * fa);
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  const css = c => `rgb(${c.map(Math.round).join(', ')})`;
  return { ratio: +((a + 0.05) / (b + 0.05)).toFixed(2), fg: css(fg), bg: css(bg), bgLuminance: +lum(bg).toFixed(3) };
}

// Poll FN (async, returns a truthy value when done) until it is, or fail
// after MS with MESSAGE and the last value seen.
async function until(fn, ms, message) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) throw new Error(`${message} (after ${ms} ms; last: ${JSON.stringify(last)})`);
    await new Promise(r => setTimeout(r, 100));
  }
}

// The measurement line the kernel shows under every cell:
// "compile 2.23 ms · run 0.10 ms · heap ... · stack ... · faults ..."
const MEASURE = /^compile [\d.]+ \S+ · run /;

// The notebook open in JupyterLab, read through its own model (window.jupyterapp).
function notebookModel(page) {
  return page.evaluate(() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const cells = panel.content.model.cells;
    const out = [];
    for (let i = 0; i < cells.length; i++) {
      const c = cells.get(i);
      out.push({ type: c.type, source: c.sharedModel.getSource(), count: c.executionCount ?? null,
                 state: c.executionState ?? null,   // 'running' while queued or running
                 tags: (c.getMetadata && c.getMetadata('tags')) || [],
                 outputs: c.type === 'code' ? c.outputs.toJSON() : [] });
    }
    return { cells: out, status: panel.sessionContext.session?.kernel?.status,
             kernel: panel.sessionContext.kernelDisplayName };
  });
}

module.exports = { MEASURE, REPO, env, launch, newPage, shot, runtimeHas, contrastInPage, until, notebookModel };
