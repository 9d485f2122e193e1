# tools/hub/jupyterhub_config.py: JupyterHub 3.0 (Debian 12's `jupyterhub`)
# for a class using the C kernel. `make hub` (tools/hub/hub.sh) starts it;
# on a server: jupyterhub -f /path/to/this/file (as root, for PAM and for
# starting each student's server as that student).
#
# Each user's server is Debian's jupyter_server with the JupyterLab front
# end ckernel builds from npm (tools/hub/install.sh puts it, the kernelspec
# and the notebooks under PREFIX/share). The notebooks are copied into each
# user's home the first time their server starts. Idle kernels are culled
# by jupyter_server's own culler.
#
# Environment (all optional):
#   CKERNEL_HUB_AUTH    pam (default): local Unix accounts and their passwords.
#                       dummy: a demo: any name logs in with CKERNEL_HUB_PASSWORD
#                       (or any password if unset); the name must be a Unix
#                       account, its server runs as that account.
#                       demo: dummy login, and every server runs as the user
#                       running the hub, home in STATE/homes/NAME (no isolation
#                       at all: a demo on one's own machine only).
#   CKERNEL_HUB_IP, CKERNEL_HUB_PORT   where the hub listens (127.0.0.1:8000)
#   CKERNEL_HUB_STATE   its database, cookie secret, demo homes (/var/lib/ckernel-hub)
#   CKERNEL_SHARE       where install.sh put the front end (/usr/local/share/ckernel)
#   CKERNEL_HUB_ADMINS  space-separated admin users (the teacher)
#   CKERNEL_HUB_API_TOKEN  if set, a service "ckernel-load" with this token may
#                       create users and start and use their servers
#                       (tests/hub/load.py, `make test-hub`)
#   CKERNEL_CULL_IDLE   seconds before an idle kernel is shut down (3600)
#   CKERNEL_CULL_INTERVAL  how often the culler looks (300)
import os
import pwd
import shutil

c = get_config()  # noqa: F821 (JupyterHub's config loader defines it)

env = os.environ.get
share = env("CKERNEL_SHARE", "/usr/local/share/ckernel")
state = env("CKERNEL_HUB_STATE", "/var/lib/ckernel-hub")
auth = env("CKERNEL_HUB_AUTH", "pam")
os.makedirs(state, mode=0o700, exist_ok=True)

c.JupyterHub.ip = env("CKERNEL_HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(env("CKERNEL_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(env("CKERNEL_HUB_INTERNAL_PORT", str(c.JupyterHub.port + 1)))
# Debian's configurable-http-proxy finds its modules in /usr/share/nodejs;
# only Debian's own node looks there, a Node.js from elsewhere needs telling.
os.environ["NODE_PATH"] = ":".join(filter(None, [env("NODE_PATH"), "/usr/share/nodejs"]))
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:%d" % (c.JupyterHub.port + 2)
c.JupyterHub.db_url = "sqlite:///" + os.path.join(state, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(state, "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = os.path.join(state, "jupyterhub.pid")
c.ConfigurableHTTPProxy.pid_file = os.path.join(state, "jupyterhub-proxy.pid")
# The proxy outlives a hub restart by default; a class server wants one
# command to stop everything.
c.JupyterHub.cleanup_servers = True
c.Authenticator.admin_users = set(env("CKERNEL_HUB_ADMINS", "").split())

if auth == "pam":
    c.JupyterHub.authenticator_class = "pam"
elif auth in ("dummy", "demo"):
    c.JupyterHub.authenticator_class = "dummy"
    if env("CKERNEL_HUB_PASSWORD"):
        c.DummyAuthenticator.password = env("CKERNEL_HUB_PASSWORD")
else:
    raise SystemExit(f"CKERNEL_HUB_AUTH is pam, dummy or demo, not {auth!r}")

if auth == "demo":
    c.JupyterHub.spawner_class = "simple"
    c.SimpleLocalProcessSpawner.home_dir_template = os.path.join(state, "homes", "{username}")

# The load test's service: creates users, starts servers, runs cells.
if env("CKERNEL_HUB_API_TOKEN"):
    c.JupyterHub.services = [{"name": "ckernel-load", "api_token": env("CKERNEL_HUB_API_TOKEN")}]
    c.JupyterHub.load_roles = [{
        "name": "ckernel-load",
        "scopes": ["admin:users", "admin:servers", "access:servers"],
        "services": ["ckernel-load"],
    }]

# ------------------------------------------------------- each user's server
lab = os.path.join(share, "lab")
cull_idle = env("CKERNEL_CULL_IDLE", "3600")
c.Spawner.cmd = ["/usr/bin/jupyterhub-singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
# In the demo as root the servers run as root, which jupyter_server refuses
# without --allow-root.
as_root = ["--allow-root"] if auth == "demo" and os.getuid() == 0 else []
c.Spawner.args = as_root + [
    # JupyterLab's front end (tools/lab/serve_lab.py, a jupyter_server extension)
    "--ServerApp.jpserver_extensions", "serve_lab=True",
    # TCP_NODELAY on the kernel websockets: ~40 ms less a cell
    "--config=" + os.path.join(share, "lab-server", "ws_nodelay_config.py"),
    # jupyter_server's culler: an idle kernel (no cell running) goes away after
    # CKERNEL_CULL_IDLE seconds, open browser tab or not; a busy one never does
    "--MappingKernelManager.cull_idle_timeout=" + cull_idle,
    "--MappingKernelManager.cull_interval=" + env("CKERNEL_CULL_INTERVAL", "300"),
    "--MappingKernelManager.cull_connected=True",
    "--MappingKernelManager.cull_busy=False",
]
c.Spawner.environment = {
    "PYTHONPATH": os.path.join(share, "lab-server"),
    "CKERNEL_LAB_DIR": lab,
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}
if env("JUPYTER_PATH"):            # a kernelspec outside Jupyter's data dirs
    c.Spawner.environment["JUPYTER_PATH"] = env("JUPYTER_PATH")
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120


def home_of(spawner):
    if auth == "demo":
        return spawner.home_dir
    return pwd.getpwnam(spawner.user.name).pw_dir


def copy_notebooks(spawner):
    """The bundled notebooks into ~/notebooks, the first time only: a
    student's edits are theirs from then on."""
    home = home_of(spawner)
    dest = os.path.join(home, "notebooks")
    src = os.path.join(share, "notebooks")
    if os.path.exists(dest) or not os.path.isdir(src):
        return
    os.makedirs(home, mode=0o755, exist_ok=True)
    shutil.copytree(src, dest)
    if auth != "demo" and os.getuid() == 0:
        pw = pwd.getpwnam(spawner.user.name)
        for root, dirs, files in os.walk(dest):
            for name in [root] + [os.path.join(root, f) for f in files]:
                os.chown(name, pw.pw_uid, pw.pw_gid)


c.Spawner.pre_spawn_hook = copy_notebooks
