"""A client that reads slowly loses nothing: ZeroMQ drops messages past a
socket's high-water mark (1000 by default) unless the kernel lifts it, and
a burst of displays or a Run All of many cells produces thousands."""
import time

from conftest import iopub_until_idle, run_ok, shell_reply, stdout_text

N = 5000
PAD = "x" * 2000                         # 10 MB in all: more than the sockets buffer


def test_a_burst_of_displays_reaches_a_slow_client(fresh_kernel):
    km, kc = fresh_kernel
    msg_id = kc.execute(f'for (int i = 0; i < {N}; i++) {{ char s[2100]; snprintf(s, sizeof s, "d%d {PAD}", i); '
                        'nb_display_markdown(s); }', allow_stdin=False)
    time.sleep(3)                        # the client is busy elsewhere
    reply = shell_reply(kc, msg_id, timeout=30)
    assert reply["content"]["status"] == "ok"
    msgs = iopub_until_idle(kc, msg_id, timeout=60)
    shown = [m["content"]["data"]["text/markdown"] for m in msgs
             if m["msg_type"] == "display_data" and "text/markdown" in m["content"]["data"]]
    assert len(shown) == N, f"{N - len(shown)} displays lost"
    assert shown == [f"d{i} {PAD}" for i in range(N)]


def test_many_cells_sent_at_once_all_answer(fresh_kernel):
    km, kc = fresh_kernel
    run_ok(kc, "#include <stdio.h>")
    ids = [kc.execute(f'printf("c%d\\n", {i});', allow_stdin=False) for i in range(1500)]
    time.sleep(3)
    for i, msg_id in enumerate(ids):
        assert shell_reply(kc, msg_id, timeout=60)["content"]["status"] == "ok", i
    out = "".join(stdout_text(iopub_until_idle(kc, msg_id, timeout=60)) for msg_id in ids)
    assert out == "".join(f"c{i}\n" for i in range(1500))
