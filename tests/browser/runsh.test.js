// `make run`'s last step, tools/run.sh, as a user meets it: it prints a URL
// with a token on 127.0.0.1, and behind it is JupyterLab (Debian has no
// `jupyter lab`: the npm build) with the C kernel, the notebooks folder and
// TCP_NODELAY on the kernel websockets. The server is stopped at the end.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { REPO, until } = require('./helpers');

test('tools/run.sh serves JupyterLab with the C kernel and the notebooks', async () => {
  // a PREFIX holding the kernelspec, as `make install PREFIX=...` leaves it
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'ckernel-run-'));
  fs.cpSync(path.join(REPO, 'build/share/jupyter/kernels/c'), path.join(prefix, 'share/jupyter/kernels/c'), { recursive: true });
  const env = { ...process.env, PORT: '18888', DISPLAY: '', CKERNEL_LAB_STATE: path.join(prefix, 'lab-state') };
  delete env.JUPYTER_TOKEN;
  delete env.JUPYTER_PATH;
  const child = spawn(path.join(REPO, 'tools/run.sh'), [prefix], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', d => { out += d; });
  child.stderr.on('data', d => { out += d; });
  try {
    const m = await until(() => out.match(/http:\/\/127\.0\.0\.1:(\d+)\/(lab|tree)\?token=([0-9a-f]+)/), 300000,
      'run.sh printed no URL');
    const [, port, page, token] = m;
    assert.equal(page, 'lab', `run.sh opened ${page}, not JupyterLab:\n${out}`);
    const base = `http://127.0.0.1:${port}`;
    const get = async p => {
      const r = await fetch(`${base}${p}${p.includes('?') ? '&' : '?'}token=${token}`);
      return { status: r.status, text: await r.text() };
    };
    await until(async () => (await get('/api/status').catch(() => ({}))).status === 200, 60000, 'server not up');
    const lab = await get('/lab');
    assert.equal(lab.status, 200);
    assert.match(lab.text, /bundle\.js/, 'the page is not the JupyterLab front end');
    assert.equal((await fetch(`${base}/api/status`)).status, 403, 'the server answers without its token');
    const specs = JSON.parse((await get('/api/kernelspecs')).text);
    assert.equal(specs.kernelspecs.c.spec.display_name, 'C (tcc)');
    const files = JSON.parse((await get('/api/contents')).text).content.map(f => f.name);
    for (const nb of fs.readdirSync(path.join(REPO, 'notebooks')).filter(f => f.endsWith('.ipynb')))
      assert.ok(files.includes(nb), `${nb} not in the folder JupyterLab opens: ${files}`);
    // listening on 127.0.0.1 only, with the TCP_NODELAY config loaded
    const cmdline = fs.readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
    assert.ok(cmdline.includes('--ip=127.0.0.1'), cmdline.join(' '));
    assert.ok(cmdline.some(a => a.endsWith('tools/ws_nodelay_config.py')), cmdline.join(' '));
    console.log(`run.sh: ${cmdline.slice(0, 3).join(' ')} ... on port ${port}`);
  } finally {
    try { process.kill(-child.pid, 'SIGTERM'); } catch (e) { /* already gone */ }
    await new Promise(r => { if (child.exitCode !== null) r(); else child.on('exit', r); });
    fs.rmSync(prefix, { recursive: true, force: true });
  }
});
