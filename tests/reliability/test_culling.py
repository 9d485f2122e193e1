"""Issue 19: idle kernels are culled by jupyter_server's own culler
(MappingKernelManager.cull_idle_timeout), never one running a cell.

A real jupyter_server (Debian's python3-jupyter-server) on a free loopback
port, with a 3 s idle timeout, culling connected kernels too (as
tools/hub/jupyterhub_config.py does): one kernel runs a 7 s cell over the
websocket while another sits idle.
"""
import asyncio
import os
import secrets
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "hub"))
from jupyter_ws import Server, free_port, start_jupyter_server  # noqa: E402

from conftest import JUPYTER_DIR  # noqa: E402

IDLE = 3


@pytest.fixture
def server(tmp_path):
    port, token = free_port(), secrets.token_hex(16)
    proc = start_jupyter_server(str(tmp_path), port, token, JUPYTER_DIR, extra=[
        f"--MappingKernelManager.cull_idle_timeout={IDLE}",
        "--MappingKernelManager.cull_interval=1",
        "--MappingKernelManager.cull_connected=True",
        "--MappingKernelManager.cull_busy=False",
    ])
    srv = Server(f"http://127.0.0.1:{port}/", token)
    try:
        asyncio.run(srv.wait_up())
        yield srv
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except Exception:
            proc.kill()
            proc.wait()


async def wait_gone(server, kernel_id, timeout, still_there=()):
    """Wait until KERNEL_ID is culled; meanwhile every kernel of STILL_THERE
    must exist. Returns the seconds it took."""
    t0 = time.monotonic()
    while await server.kernel(kernel_id) is not None:
        for other in still_there:
            assert await server.kernel(other) is not None, "a busy kernel was culled"
        assert time.monotonic() - t0 < timeout, f"kernel {kernel_id} not culled within {timeout} s"
        await asyncio.sleep(0.25)
    return time.monotonic() - t0


def test_idle_kernel_culled_busy_kernel_kept(server):
    async def scenario():
        busy_id = await server.start_kernel()
        idle_id = await server.start_kernel()
        ws = await server.connect(busy_id)
        try:
            await ws.execute("#include <unistd.h>\n#include <stdio.h>")
            cell = asyncio.ensure_future(ws.execute(
                f'usleep({(IDLE * 2 + 1) * 1000000});\nprintf("long cell done\\n");', timeout=60))
            # the idle kernel goes, while the busy one runs on
            await wait_gone(server, idle_id, IDLE + 6, still_there=[busy_id])
            reply, outputs, took = await cell
            assert reply["status"] == "ok", reply
            assert took > IDLE * 2, "the long cell did not run its full length"
            assert "long cell done" in "".join(m["content"].get("text", "") for m in outputs)
            # once idle, the kernel that ran the long cell is culled in turn
            await wait_gone(server, busy_id, IDLE + 6)
        finally:
            ws.close()
    asyncio.run(scenario())
