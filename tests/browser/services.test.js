// The C kernel through JupyterLab's own kernel client, @jupyterlab/services,
// from Node: the REST and websocket path JupyterLab uses, against the
// JupyterLab server that tests/browser/run.sh started. Also: a 1000-cell
// burst and a cell that prints a lot must arrive whole (the server drops
// IOPub output above 1000 messages/s: the kernel has to batch), and the
// round trip through the server with and without TCP_NODELAY
// (tools/ws_nodelay_config.py), both printed.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const { ServerConnection, KernelManager, SessionManager, KernelSpecManager } = require('@jupyterlab/services');
const { env, MEASURE } = require('./helpers');

const TOKEN = env('CK_TOKEN');
// Every websocket the client opens, so that the end of the tests can drop
// them: ws otherwise waits up to 30 s for the server to answer a close
// frame, and the test process with it.
const sockets = new Set();
class WebSocket extends require('ws') {
  constructor(...a) { super(...a); sockets.add(this); }
}
const settings = base => ServerConnection.makeSettings({
  baseUrl: base + '/', wsUrl: base.replace(/^http/, 'ws') + '/', token: TOKEN, appendToken: true, WebSocket });

// A session on the C kernel, as JupyterLab opens one for a notebook.
async function openSession(base, path) {
  const serverSettings = settings(base);
  const kernelManager = new KernelManager({ serverSettings });
  const sessions = new SessionManager({ serverSettings, kernelManager });
  await sessions.ready;
  const session = await sessions.startNew({ path, type: 'notebook', name: path, kernel: { name: 'c' } });
  return {
    session, kernel: session.kernel,
    async close() { await session.shutdown(); sessions.dispose(); kernelManager.dispose(); },
  };
}

// Run CODE; collect every IOPub message of it and the reply.
async function run(kernel, code, opts = {}) {
  const msgs = [];
  const future = kernel.requestExecute({ code, ...opts });
  future.onIOPub = m => msgs.push({ type: m.header.msg_type, content: m.content });
  const reply = await future.done;
  const text = msgs.filter(m => m.type === 'stream' && m.content.name === 'stdout').map(m => m.content.text).join('');
  return { reply: reply.content, reply_metadata: reply.metadata, msgs, text };
}

const median = a => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };

let lab;
before(async () => { lab = await openSession(env('CK_LAB_URL'), 'services-test.ipynb'); });
after(async () => {
  if (lab) await lab.close();
  for (const ws of sockets) ws.terminate();
});

test('kernelspec and kernel_info as JupyterLab reads them', async () => {
  const specs = new KernelSpecManager({ serverSettings: settings(env('CK_LAB_URL')) });
  await specs.ready;
  const c = specs.specs.kernelspecs.c;
  assert.ok(c, `no kernelspec c: ${Object.keys(specs.specs.kernelspecs)}`);
  assert.equal(c.display_name, 'C (tcc)');
  assert.equal(c.language, 'c');
  assert.ok(c.resources['logo-64x64'] && c.resources['logo-32x32'], JSON.stringify(c.resources));
  const logo = await fetch(`${env('CK_LAB_URL')}${c.resources['logo-64x64']}?token=${TOKEN}`);
  assert.equal(logo.status, 200);
  assert.equal(logo.headers.get('content-type'), 'image/png');
  specs.dispose();

  const info = await lab.kernel.info;
  assert.equal(info.status, 'ok');
  assert.equal(info.protocol_version.split('.')[0], '5');
  const li = info.language_info;
  assert.equal(li.name, 'c');
  assert.equal(li.mimetype, 'text/x-csrc');
  assert.equal(li.file_extension, '.c');
  assert.equal(li.pygments_lexer, 'c');
  assert.match(JSON.stringify(li.codemirror_mode), /x-csrc|clike|"c"/);
});

test('stream, error and value messages', async () => {
  const r = await run(lab.kernel, '#include <stdio.h>\nprintf("hi from C\\n");');
  assert.equal(r.reply.status, 'ok');
  assert.equal(r.text, 'hi from C\n');
  const types = r.msgs.map(m => m.type).filter(t => t !== 'stream');
  assert.equal(r.msgs[0].content.execution_state, 'busy');
  assert.equal(r.msgs.at(-1).content.execution_state, 'idle');
  // the measurement line: a display under every cell that ran, and the same
  // figures in the reply's metadata
  const measure = r.msgs.filter(m => m.type === 'display_data' && MEASURE.test(m.content.data['text/plain'] || ''));
  assert.deepEqual(types, ['status', 'execute_input', 'display_data', 'status']);
  assert.equal(measure.length, 1, JSON.stringify(r.msgs));
  assert.deepEqual(measure[0].content.metadata, {});
  assert.match(measure[0].content.data['text/html'], /compile/);
  const md = r.reply_metadata.ckernel && r.reply_metadata.ckernel.measure;
  assert.ok(md && md.compile_ns > 0 && md.run_ns >= 0, JSON.stringify(r.reply_metadata));

  const e = await run(lab.kernel, 'int broken = ;');
  assert.equal(e.reply.status, 'error');
  const errs = e.msgs.filter(m => m.type === 'error');
  assert.equal(errs.length, 1);
  assert.equal(errs[0].content.ename, 'CompileError');
  assert.equal(e.reply.ename, 'CompileError');

  const v = await run(lab.kernel, '6 * 7');
  const res = v.msgs.find(m => m.type === 'execute_result');
  assert.ok(res, JSON.stringify(v.msgs));
  assert.equal(res.content.data['text/plain'], '(int) 42');
  assert.deepEqual(res.content.metadata, {});
});

test('a 1000-cell burst: every reply and every line arrives, in order', async () => {
  const N = 1000;
  const lines = [];
  let measured = 0;
  const t0 = Date.now();
  const futures = [];
  for (let i = 0; i < N; i++) {
    const f = lab.kernel.requestExecute({ code: `printf("burst %d\\n", ${i});` });
    f.onIOPub = m => {
      if (m.header.msg_type === 'stream') lines.push(...m.content.text.split('\n').filter(Boolean));
      if (m.header.msg_type === 'display_data' && MEASURE.test(m.content.data['text/plain'])) measured++;
    };
    futures.push(f.done);
  }
  const replies = await Promise.all(futures);
  const s = (Date.now() - t0) / 1000;
  console.log(`burst: ${N} cells through the server in ${s.toFixed(2)} s, ${lines.length} lines received`);
  assert.deepEqual(replies.map(r => r.content.status).filter(x => x !== 'ok'), []);
  assert.equal(lines.length, N);
  assert.equal(measured, N, 'measurement lines');
  assert.deepEqual(lines, Array.from({ length: N }, (_, i) => `burst ${i}`));
});

test('one cell printing 20000 lines: none dropped by the IOPub rate limit', async () => {
  const N = 20000;
  const r = await run(lab.kernel, `for (int i = 0; i < ${N}; i++) printf("row %d\\n", i);`);
  const streams = r.msgs.filter(m => m.type === 'stream').length;
  console.log(`20000 printf lines arrived in ${streams} stream messages`);
  assert.equal(r.reply.status, 'ok');
  assert.ok(!r.text.includes('IOPub message rate exceeded'), 'the server dropped output');
  const got = r.text.split('\n').filter(Boolean);
  assert.equal(got.length, N);
  assert.equal(got[N - 1], `row ${N - 1}`);
});

test('round trip through the server, with and without TCP_NODELAY', async () => {
  const plain = await openSession(env('CK_LAB_PLAIN_URL'), 'services-plain.ipynb');
  try {
    const once = async kernel => {
      const t0 = process.hrtime.bigint();
      await kernel.requestExecute({ code: '' }).done;
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    for (let i = 0; i < 5; i++) { await once(lab.kernel); await once(plain.kernel); }
    // alternate the two, so that whatever else the machine does costs both the same
    const a = [], b = [];
    for (let i = 0; i < 60; i++) { a.push(await once(lab.kernel)); b.push(await once(plain.kernel)); }
    const withNodelay = median(a), without = median(b);
    console.log(`round trip of an empty cell through jupyter_server (median): ` +
      `with TCP_NODELAY ${withNodelay.toFixed(2)} ms, without ${without.toFixed(2)} ms`);
    // Nagle's algorithm plus delayed ACKs add up to 40 ms to a round trip
    // without TCP_NODELAY; how much that costs is make bench's to say (on a
    // loaded machine both medians grow by tens of ms and the gap can vanish:
    // 67 vs 66 ms was seen). What is checked is that the option is set on
    // the kernel websockets of the server `make run` starts, and only there.
    const wins = a.filter((t, i) => t < b[i]).length;
    console.log(`TCP_NODELAY was faster in ${wins} of ${a.length} alternating pairs`);
    const said = f => fs.readFileSync(env(f), 'utf8').includes('ckernel: TCP_NODELAY set on a kernel websocket');
    assert.ok(said('CK_LAB_LOG'), 'the server make run starts did not set TCP_NODELAY on its kernel websockets');
    assert.ok(!said('CK_LAB_PLAIN_LOG'), 'the server without the config set TCP_NODELAY');
  } finally {
    await plain.close();
  }
});
