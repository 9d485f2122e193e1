"""Every message reaches the client: one that reads slowly (ZeroMQ drops
messages past a socket's high-water mark, 1000 by default, unless the kernel
lifts it, and a burst of displays or a Run All of many cells produces
thousands), and displays that threads of a cell make all at once (the
worker's JSON memory and its event pipe are shared by them)."""
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


def test_displays_from_many_threads_all_arrive(fresh_kernel):
    km, kc = fresh_kernel
    run_ok(kc, "#include <pthread.h>\n#include <stdio.h>\n"
               "void *shower(void *arg) { long t = (long)arg; char s[6000]; memset(s, 'y', sizeof s - 1); "
               "s[sizeof s - 1] = 0; for (int i = 0; i < 300; i++) { snprintf(s, 32, \"t%ld i%d \", t, i); "
               "s[strlen(s)] = 'y'; nb_display_markdown(s); } return 0; }")
    msg_id = kc.execute("pthread_t th[4];\nfor (long t = 0; t < 4; t++) pthread_create(&th[t], 0, shower, (void *)t);\n"
                        "for (int t = 0; t < 4; t++) pthread_join(th[t], 0);", allow_stdin=False)
    reply = shell_reply(kc, msg_id, timeout=60)
    assert reply["content"]["status"] == "ok", reply["content"]
    msgs = iopub_until_idle(kc, msg_id, timeout=60)
    shown = [m["content"]["data"]["text/markdown"] for m in msgs
             if m["msg_type"] == "display_data" and "text/markdown" in m["content"]["data"]]
    assert len(shown) == 1200, f"{1200 - len(shown)} displays lost"
    assert all(len(s) == 5999 for s in shown)
    for t in range(4):                   # each thread's in its own order
        mine = [int(s.split()[1][1:]) for s in shown if s.startswith(f"t{t} ")]
        assert mine == list(range(300)), t
