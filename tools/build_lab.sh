#!/bin/bash
# tools/build_lab.sh: build the JupyterLab 4 front end from npm, once, into
# build/frontends/lab, for `make run` (when `jupyter lab` is not installed)
# and for the browser tests. JupyterLab's Python package is not in Debian 12;
# its front end is on npm, and Debian's jupyter_server + jupyterlab_server
# serve it (tools/lab/serve_lab.py).
#
# What comes from npm is pinned by tests/browser/package.json and its
# package-lock.json (also playwright-core and @jupyterlab/services, which the
# tests use). `npm ci` installs them into build/frontends/node_modules when
# the lock file changes; webpack rebuilds build/frontends/lab when the lock
# file or the build's own files change. Otherwise this is a few checksums.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$repo/build/frontends
mkdir -p "$out"
exec 9>"$out/.lock"; flock 9          # one build at a time

if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "build_lab.sh needs Node.js and npm: sudo apt-get install -y nodejs npm" >&2; exit 1
    fi
    echo "Installing Node.js and npm (Debian packages)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm ||
        { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm; }
fi
for p in python3-jupyter-server python3-jupyterlab-server; do
    dpkg-query -W -f='${db:Status-Abbrev}' $p 2>/dev/null | grep -q '^ii' && continue
    if [ "$(id -u)" -ne 0 ]; then
        echo "JupyterLab needs: sudo apt-get install -y python3-jupyter-server python3-jupyterlab-server" >&2; exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3-jupyter-server python3-jupyterlab-server
    break
done

sum() { cat "$@" | sha256sum | cut -c1-16; }
t0=$(date +%s)

lock_sum=$(sum "$repo/tests/browser/package.json" "$repo/tests/browser/package-lock.json")
if [ "$(cat "$out/node_modules/.ckernel-lock" 2>/dev/null)" != "$lock_sum" ]; then
    echo "npm ci: JupyterLab front end, playwright-core, @jupyterlab/services -> build/frontends/node_modules"
    cp "$repo/tests/browser/package.json" "$repo/tests/browser/package-lock.json" "$out/"
    (cd "$out" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock_sum" > "$out/node_modules/.ckernel-lock"
fi

lab_sum=$(sum "$out/node_modules/.ckernel-lock" "$repo/tools/lab/webpack.config.js" "$0")
if [ "$(cat "$out/lab/.ckernel-build" 2>/dev/null)" != "$lab_sum" ] || [ ! -s "$out/lab/bundle.js" ]; then
    echo "webpack: JupyterLab front end -> build/frontends/lab"
    cp "$repo/tools/lab/webpack.config.js" "$out/"
    # The entry point: load the CSS, then register every extension that
    # package.json lists, less those whose server side is in JupyterLab's
    # Python package, which Debian lacks (language servers; the news
    # announcements, which would also pop up a question about fetching news).
    # window.jupyterapp lets tests reach the app.
    /usr/bin/python3 - "$out/package.json" > "$out/index.js" <<'PY'
import json, sys
exts = json.load(open(sys.argv[1]))["jupyterlab"]["extensions"]
mime = [e for e in exts if e.endswith(("/json-extension", "/pdf-extension"))]
plugins = [e for e in exts if e not in mime]
print("import { JupyterLab } from '@jupyterlab/application';")
print("import { PageConfig } from '@jupyterlab/coreutils';")
print("__webpack_public_path__ = PageConfig.getOption('fullStaticUrl') + '/';")
print("const styles = import('./lab/style.js');")
print("const drop = m => ({ __esModule: true, default: (Array.isArray(m.default) ? m.default : [m.default])"
      ".filter(p => !/:(language-server|announcements)/.test(String(p.id))) });")
print("const extensions = [")
for e in plugins: print(f"  import('{e}').then(drop),")
print("];\nconst mimeExtensions = [")
for e in mime: print(f"  import('{e}'),")
print("];")
print("""window.addEventListener('load', async () => {
  await styles;
  const lab = new JupyterLab({ mimeExtensions: await Promise.all(mimeExtensions) });
  lab.registerPluginModules(await Promise.all(extensions));
  window.jupyterapp = lab;
  await lab.start();
  await lab.restored;
  console.log('ckernel: JupyterLab restored');
});""")
PY
    rm -rf "$out/lab"
    (cd "$out" && npx --no-install webpack --no-stats >/dev/null) || (cd "$out" && npx --no-install webpack)
    echo "$lab_sum" > "$out/lab/.ckernel-build"
    echo "built build/frontends/lab ($(du -sh "$out/lab" | cut -f1)) in $(( $(date +%s) - t0 )) s"
fi
