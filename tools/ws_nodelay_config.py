# tools/ws_nodelay_config.py: Jupyter server config that `make run` loads with
# --config. It sets TCP_NODELAY on the kernel websockets of Notebook 6.4 and
# jupyter_server (JupyterLab). Without it every round trip between the browser
# and the kernel waits ~44 ms (Nagle plus delayed ACK), far more than the
# kernel's own 1-3 ms, and a notebook of quick C cells feels sluggish.
def _patch(cls):
    orig = cls.open
    if getattr(orig, "_nodelay_patched", False):
        return

    def open(self, *a, **kw):
        self.set_nodelay(True)
        # said in the server's log, so a test can see the option was set
        self.log.info("ckernel: TCP_NODELAY set on a kernel websocket")
        return orig(self, *a, **kw)

    open._nodelay_patched = True
    cls.open = open


for _mod in ("notebook.services.kernels.handlers",
             "jupyter_server.services.kernels.handlers"):
    try:
        _m = __import__(_mod, fromlist=["ZMQChannelsHandler"])
        _patch(_m.ZMQChannelsHandler)
    except Exception:  # that server is not installed: nothing to patch
        pass
