"""A Jupyter server's REST and websocket API from Python, as JupyterLab
uses it: start kernels with POST /api/kernels, run cells over
/api/kernels/ID/channels. Tornado's clients (Debian's python3-tornado),
asyncio, no other dependency. Used by the culling test and the hub's load
test (tests/hub/load.py).
"""
import asyncio
import datetime
import json
import os
import socket
import subprocess
import time
import uuid

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

AsyncHTTPClient.configure(None, max_clients=200)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A Jupyter server at BASE (http://host:port/prefix/), with TOKEN."""

    def __init__(self, base, token):
        self.base = base.rstrip("/") + "/"
        self.token = token

    async def request(self, method, path, body=None, timeout=60, missing_ok=True):
        """The JSON answer, or None for 404 when MISSING_OK."""
        req = HTTPRequest(self.base + path.lstrip("/"), method=method,
                          headers={"Authorization": f"token {self.token}", "Accept": "application/json"},
                          body=None if body is None and method == "GET" else json.dumps(body or {}),
                          request_timeout=timeout, allow_nonstandard_methods=True)
        try:
            resp = await AsyncHTTPClient().fetch(req)
        except HTTPClientError as e:
            if e.code == 404 and missing_ok:
                return None
            raise RuntimeError(f"{method} {path}: {e.code} {e.response.body[:300] if e.response else ''}")
        return json.loads(resp.body) if resp.body else {}

    async def wait_up(self, timeout=60):
        """Until the server answers (behind a hub's proxy: 404 until its
        route is in)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                status = await self.request("GET", "api/status", timeout=5)
                if status is not None:
                    return status
            except (OSError, RuntimeError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.base} did not answer within {timeout} s")
            await asyncio.sleep(0.2)

    async def start_kernel(self, name="c"):
        return (await self.request("POST", "api/kernels", {"name": name}, missing_ok=False))["id"]

    async def kernel(self, kernel_id):
        """The kernel's model (execution_state, last_activity), None once gone."""
        return await self.request("GET", f"api/kernels/{kernel_id}")

    async def connect(self, kernel_id):
        ws = KernelSocket(self, kernel_id)
        await ws.open()
        return ws


class KernelSocket:
    """One websocket to a kernel, as a notebook tab holds it."""

    def __init__(self, server, kernel_id):
        self.server, self.kernel_id = server, kernel_id
        self.session = uuid.uuid4().hex
        self.conn = None

    async def open(self):
        url = self.server.base.replace("http", "ws", 1) + \
            f"api/kernels/{self.kernel_id}/channels?session_id={self.session}"
        self.conn = await websocket_connect(HTTPRequest(
            url, headers={"Authorization": f"token {self.server.token}"}, request_timeout=60),
            max_message_size=1 << 30)

    def close(self):
        if self.conn:
            self.conn.close()

    async def send(self, msg_type, content, channel="shell"):
        msg_id = uuid.uuid4().hex
        await self.conn.write_message(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": msg_type, "username": "test", "session": self.session,
                       "version": "5.3", "date": datetime.datetime.now(datetime.timezone.utc).isoformat()},
            "parent_header": {}, "metadata": {}, "content": content, "channel": channel, "buffers": []}))
        return msg_id

    async def recv(self, timeout):
        raw = await asyncio.wait_for(self.conn.read_message(), timeout)
        if raw is None:
            raise ConnectionError("the server closed the websocket")
        if isinstance(raw, bytes):       # binary frames carry buffers; cells send none
            return None
        return json.loads(raw)

    async def execute(self, code, timeout=120, on_busy=None):
        """Run CODE; returns (reply content, outputs, seconds from sending to
        idle). OUTPUTS: the iopub messages of the cell (stream, error, ...).
        ON_BUSY: awaited once the kernel says busy for this cell."""
        t0 = time.monotonic()
        msg_id = await self.send("execute_request", {
            "code": code, "silent": False, "store_history": True, "user_expressions": {},
            "allow_stdin": False, "stop_on_error": False})
        reply, outputs, idle = None, [], False
        deadline = t0 + timeout
        while reply is None or not idle:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no reply/idle within {timeout} s for {code[:60]!r}")
            msg = await self.recv(left)
            if not msg or msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "execute_reply":
                reply = msg["content"]
            elif kind == "status":
                state = msg["content"]["execution_state"]
                if state == "busy" and on_busy:
                    await on_busy()
                idle = idle or state == "idle"
            elif kind != "execute_input":
                outputs.append(msg)
        return reply, outputs, time.monotonic() - t0


def stream_text(outputs, name="stdout"):
    return "".join(m["content"]["text"] for m in outputs
                   if m["header"]["msg_type"] == "stream" and m["content"]["name"] == name)


def start_jupyter_server(root, port, token, jupyter_path, extra=()):
    """Debian's jupyter_server on 127.0.0.1:PORT, its state under ROOT."""
    env = dict(os.environ, JUPYTER_PATH=jupyter_path, JUPYTER_CONFIG_DIR=os.path.join(root, "config"),
               JUPYTER_RUNTIME_DIR=os.path.join(root, "runtime"), PYDEVD_DISABLE_FILE_VALIDATION="1")
    args = ["/usr/bin/python3", "-m", "jupyter_server", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--ServerApp.token={token}",
            "--ServerApp.open_browser=False", f"--ServerApp.root_dir={root}", *extra]
    if os.getuid() == 0:
        args.append("--allow-root")
    log = open(os.path.join(root, "server.log"), "w")
    return subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
