#!/usr/bin/python3
"""docs/deploy/smoke.py: the single-user image's command, tried without a
container: run as jovyan after docs/deploy/image.sh (docs/deploy/check.sh
does both in a clean Debian 12 root). A JupyterHub started here spawns the
image's plain `jupyterhub-singleuser` (no arguments: as Zero to JupyterHub
does, everything else comes from /etc/jupyter/jupyter_server_config.py);
then, through the hub: JupyterLab's page, the C kernelspec with its
ceilings, a C cell run over the websocket, and config.yaml's postStart
copy of the notebooks.
"""
import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "hub"))
from jupyter_ws import Server, free_port, stream_text  # noqa: E402

POST_START = "[ -e ~/notebooks ] || cp -r /usr/local/share/ckernel/notebooks ~/notebooks"
HUB_CONFIG = """
c.JupyterHub.ip = '127.0.0.1'
c.JupyterHub.port = {port}
c.JupyterHub.hub_port = {port} + 1
c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:%d' % ({port} + 2)
c.JupyterHub.authenticator_class = 'dummy'
c.JupyterHub.spawner_class = 'simple'
c.SimpleLocalProcessSpawner.home_dir_template = '{work}/homes/{{username}}'
c.Spawner.cmd = ['jupyterhub-singleuser']
c.Spawner.env_keep = ['PATH', 'PYTHONPATH', 'CKERNEL_LAB_DIR', 'LANG']
c.JupyterHub.services = [{{'name': 'smoke', 'api_token': '{token}'}}]
c.JupyterHub.load_roles = [{{'name': 'smoke', 'scopes': ['admin:users', 'admin:servers', 'access:servers'],
                            'services': ['smoke']}}]
"""


async def check(base, token, home):
    hub = Server(base, token)
    t0 = time.monotonic()
    while True:
        try:
            if await hub.request("GET", "hub/api/", timeout=5) is not None:
                break
        except (OSError, RuntimeError):
            pass
        assert time.monotonic() - t0 < 120, "the hub did not come up"
        await asyncio.sleep(0.5)
    await hub.request("POST", "hub/api/users/student", {})
    await hub.request("POST", "hub/api/users/student/server", {})
    while not (await hub.request("GET", "hub/api/users/student"))["servers"].get("", {}).get("ready"):
        assert time.monotonic() - t0 < 300, "the server did not start"
        await asyncio.sleep(0.5)
    server = Server(base + "user/student/", token)
    specs = (await server.request("GET", "api/kernelspecs"))["kernelspecs"]
    env = specs["c"]["spec"].get("env", {})
    print("kernelspec c:", specs["c"]["spec"]["argv"][0], env)
    assert env.get("CKERNEL_MAX_PROCESSES"), "no ceilings in the kernelspec's env"
    from tornado.httpclient import AsyncHTTPClient, HTTPRequest
    page = await AsyncHTTPClient().fetch(HTTPRequest(base + "user/student/lab",
                                                     headers={"Authorization": f"token {token}"}))
    assert b"JupyterLab" in page.body and b"lab_from_npm" in page.body, page.body[:300]
    print("JupyterLab page: ok")
    kid = await server.start_kernel("c")
    ws = await server.connect(kid)
    reply, outputs, took = await ws.execute('#include <stdio.h>\nprintf("%d\\n", 6 * 7);')
    ws.close()
    assert reply["status"] == "ok" and stream_text(outputs) == "42\n", (reply, outputs)
    print(f"a C cell through the hub: 42 in {took * 1000:.0f} ms")
    subprocess.run(["sh", "-c", POST_START], check=True, env=dict(os.environ, HOME=home))
    assert os.path.exists(os.path.join(home, "notebooks", "02-stack-heap-examples.ipynb"))
    print("postStart: notebooks copied into", home)


def main():
    work = tempfile.mkdtemp(prefix="ckernel-smoke-")
    port, token = free_port(), secrets.token_hex(16)
    cfg = os.path.join(work, "jupyterhub_config.py")
    open(cfg, "w").write(HUB_CONFIG.format(port=port, token=token, work=work))
    log = open(os.path.join(work, "hub.log"), "w")
    env = dict(os.environ, NODE_PATH="/usr/share/nodejs")
    hub = subprocess.Popen(["/usr/bin/jupyterhub", "-f", cfg], cwd=work, stdout=log, stderr=subprocess.STDOUT,
                           env=env)
    try:
        asyncio.run(check(f"http://127.0.0.1:{port}/", token, os.path.join(work, "homes", "student")))
    except BaseException:
        print(open(os.path.join(work, "hub.log")).read()[-4000:])
        raise
    finally:
        hub.terminate()
        hub.wait(60)
    print("smoke: ok")


if __name__ == "__main__":
    main()
