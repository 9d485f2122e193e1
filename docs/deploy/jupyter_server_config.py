# docs/deploy/jupyter_server_config.py: installed as
# /etc/jupyter/jupyter_server_config.py in the single-user image, so the
# image's plain `jupyterhub-singleuser` serves what `make hub` passes as
# arguments (tools/hub/jupyterhub_config.py): JupyterLab built from npm,
# TCP_NODELAY on kernel websockets, and the kernel culler.
c = get_config()  # noqa: F821 (Jupyter's config loader defines it)
c.ServerApp.jpserver_extensions = {"serve_lab": True}   # tools/lab/serve_lab.py
c.ServerApp.default_url = "/lab"
# An idle kernel (no cell running) goes after an hour, browser tab open or
# not; a kernel running a cell is never culled.
c.MappingKernelManager.cull_idle_timeout = 3600
c.MappingKernelManager.cull_interval = 300
c.MappingKernelManager.cull_connected = True
c.MappingKernelManager.cull_busy = False
# ~40 ms less a cell: see tools/ws_nodelay_config.py
exec(open("/usr/local/share/ckernel/lab-server/ws_nodelay_config.py").read())
