#!/usr/bin/python3
"""Serve the JupyterLab 4 front end that tools/build_lab.sh builds from npm
(build/frontends/lab) with Debian's jupyter_server 1.23 and jupyterlab_server
2.16: JupyterLab's Python package is not in Debian 12, its front end is on npm.

Every jupyter_server option applies (--ip, --port, --ServerApp.token, ...).
Environment:
  CKERNEL_LAB_DIR    the built front end (default: build/frontends/lab)
  CKERNEL_LAB_STATE  where user settings and workspaces go (default: ~/.jupyter/ckernel-lab)
"""
import os

from jupyterlab_server import LabServerApp

HERE = os.path.dirname(os.path.abspath(__file__))
LAB = os.environ.get("CKERNEL_LAB_DIR") or os.path.join(HERE, "..", "..", "build", "frontends", "lab")
LAB = os.path.abspath(LAB)
STATE = os.environ.get("CKERNEL_LAB_STATE") or os.path.expanduser("~/.jupyter/ckernel-lab")


class LabFromNpm(LabServerApp):
    name = "lab_from_npm"
    extension_url = "/lab"
    default_url = "/lab"
    load_other_extensions = False
    app_name = "JupyterLab"
    app_version = "4"
    static_dir = LAB
    templates_dir = os.path.join(HERE, "templates")
    app_settings_dir = os.path.join(LAB, "application_settings")
    schemas_dir = os.path.join(LAB, "schemas")
    themes_dir = os.path.join(LAB, "themes")
    user_settings_dir = os.path.join(STATE, "user_settings")
    workspaces_dir = os.path.join(STATE, "workspaces")

    def initialize_settings(self):
        super().initialize_settings()
        # no terminal extension in this build
        self.serverapp.web_app.settings["terminals_available"] = False


def _jupyter_server_extension_points():
    return [{"module": __name__, "app": LabFromNpm}]


if __name__ == "__main__":
    if not os.path.exists(os.path.join(LAB, "bundle.js")):
        raise SystemExit(f"no JupyterLab front end in {LAB}: run tools/build_lab.sh")
    LabFromNpm.launch_instance()
