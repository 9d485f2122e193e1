"""`jupyter console --kernel c` in a real terminal (tmux), typed into key by
key as a person would: a function typed line by line is held until it is
complete (the kernel's is_complete_reply), then runs; its output shows.

Run from tests/ by `make test-frontends`. Uses the kernelspec `make` writes
to build/share/jupyter.
"""
import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
JUPYTER_DATA = REPO / "build" / "share" / "jupyter"

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed (tools/deps.sh)")


class Terminal:
    """A tmux session on a private server socket, running one command."""

    def __init__(self, command, env, width=120, height=50):
        self.sock = f"ckernel-{uuid.uuid4().hex[:8]}"
        self.tmux = ["tmux", "-L", self.sock, "-f", "/dev/null"]
        self.env = env
        subprocess.run(self.tmux + ["new-session", "-d", "-x", str(width), "-y", str(height)] + command,
                       check=True, env=env)

    def screen(self):
        return subprocess.run(self.tmux + ["capture-pane", "-p", "-J", "-S", "-200"],
                              capture_output=True, text=True, check=True).stdout

    def type(self, text):
        # each byte as a key (-H): tmux would take a trailing ';' for a command separator
        subprocess.run(self.tmux + ["send-keys", "-H"] + [f"{b:02x}" for b in text.encode()], check=True)

    def enter(self):
        subprocess.run(self.tmux + ["send-keys", "Enter"], check=True)

    def wait_for(self, pattern, timeout=20):
        end = time.monotonic() + timeout
        while True:
            s = self.screen()
            if re.search(pattern, s, re.M):
                return s
            if time.monotonic() > end:
                raise AssertionError(f"no {pattern!r} on the screen after {timeout} s:\n{s}")
            time.sleep(0.1)

    def close(self):
        subprocess.run(self.tmux + ["kill-server"], capture_output=True)


@pytest.fixture
def console(tmp_path):
    assert (JUPYTER_DATA / "kernels" / "c" / "kernel.json").exists(), "run `make` first"
    env = dict(os.environ, JUPYTER_PATH=str(JUPYTER_DATA),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               PYDEVD_DISABLE_FILE_VALIDATION="1", TERM="xterm-256color")
    term = Terminal(["/usr/bin/jupyter", "console", "--kernel", "c"], env)
    try:
        yield term
    finally:
        term.close()


def prompts(screen):
    return re.findall(r"^In \[(\d+)\]:", screen, re.M)


def test_multiline_function_typed_line_by_line(console):
    banner = console.wait_for(r"^In \[1\]:", timeout=30)
    assert "ckernel" in banner, banner

    console.type("#include <stdio.h>")
    console.enter()
    console.wait_for(r"^In \[2\]:")

    # An unfinished definition is held: a continuation prompt, not a new cell.
    console.type("int add(int a, int b) {")
    console.enter()
    s = console.wait_for(r"^\s+\.\.\.:")
    console.type("return a + b;")
    console.enter()
    # the console asked the kernel (is_complete) and drew what it answered:
    # a second continuation prompt, where a wrong early run shows In [3]
    s = console.wait_for(r"^\s+\.\.\.:.*\n\s+\.\.\.:|^In \[3\]:")
    assert prompts(s) == ["1", "2"], f"ran before the function was complete:\n{s}"
    assert "error" not in s, s

    console.type("}")
    console.enter()
    s = console.wait_for(r"^In \[3\]:")
    assert "error" not in s, f"the function did not compile:\n{s}"

    console.type('printf("sum=%d\\n", add(2, 40));')
    console.enter()
    s = console.wait_for(r"^In \[4\]:")
    assert re.search(r"^sum=42$", s, re.M), s
    # the measurement line shows in a terminal too
    assert re.search(r"^compile [\d.]+ \S+ · run ", s, re.M), s

    # a compile error names the line
    console.type("int broken = ;")
    console.enter()
    s = console.wait_for(r"^In \[5\]:")
    assert re.search(r"error", s) and "int broken = ;" in s, s
