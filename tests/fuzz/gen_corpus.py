#!/usr/bin/python3
"""Write the seed corpus of the fuzz targets into tests/fuzz/corpus/.

The seeds are committed; run this again only to change them. The format of
a wire seed is described at the top of fuzz_wire.c: one flags byte, then
frames as (u16 length, u8 pad, bytes), pad P meaning P * 64 KiB of spaces
after the bytes (how a small file stands for a huge frame).
"""
import hashlib
import hmac
import json
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = b"fuzz-key-0123456789abcdef"      # fuzz_wire.c's FUZZ_KEY
PAD_UNIT = 65536
SIGNED, VIA_ZMQ, HUGE = 1, 2, 4


def frame(data, pad=0):
    assert len(data) < 65536
    return struct.pack("<HB", len(data), pad) + data


def sign(parts, key=KEY):
    h = hmac.new(key, digestmod=hashlib.sha256)
    for p in parts:
        h.update(p)
    return h.hexdigest().encode()


def header(msg_type="execute_request", **kw):
    h = {"msg_id": "a1b2", "session": "s1", "username": "u", "date": "2024-01-01T00:00:00.000000Z",
         "msg_type": msg_type, "version": "5.3"}
    h.update(kw)
    return h


def message(parts, ids=(b"client-id",), flags=SIGNED, sig=None, buffers=(), pads=None):
    """A seed from four JSON frames (bytes or objects)."""
    parts = [p if isinstance(p, bytes) else json.dumps(p).encode() for p in parts]
    if pads:
        flags |= HUGE
    pads = pads or [0] * len(parts)
    full = [p + b" " * (pad * PAD_UNIT) for p, pad in zip(parts, pads)]
    if sig is None:
        sig = sign(full) if flags & SIGNED else b""
    out = bytes([flags]) + b"".join(frame(i) for i in ids) + frame(b"<IDS|MSG>") + frame(sig)
    out += b"".join(frame(p, pad) for p, pad in zip(parts, pads))
    out += b"".join(frame(b) for b in buffers)
    return out


def wire_seeds():
    execute = [header(), {}, {}, {"code": "int x = 1;", "silent": False, "store_history": True,
                                   "user_expressions": {}, "allow_stdin": True, "stop_on_error": True}]
    kinfo = [header("kernel_info_request"), {}, {}, {}]
    s = {}
    for flags in (0, SIGNED, VIA_ZMQ, SIGNED | VIA_ZMQ):
        s[f"execute_f{flags}"] = message(execute, flags=flags)
        s[f"kernel_info_f{flags}"] = message(kinfo, flags=flags)
    s["no_ids"] = message(kinfo, ids=())
    s["many_ids"] = message(kinfo, ids=[b"a", b"b", b"c", b""])
    s["with_buffers"] = message(execute, buffers=[b"\x00\x01\x02", b""])
    s["interrupt"] = message([header("interrupt_request"), {}, {}, {}])
    s["shutdown"] = message([header("shutdown_request"), {}, {}, {"restart": False}])
    s["comm_open"] = message([header("comm_open"), {}, {}, {"comm_id": "c", "target_name": "t", "data": {}}])
    s["unknown_type"] = message([header("no_such_request"), {}, {}, {}])
    s["null_parent"] = message([header(), b"null", b"null", execute[3]])
    s["unicode"] = message([header(), {}, {}, {"code": "printf(\"\u00e9\u4e2d\U0001f600\");"}])
    # bad signatures
    good = message(kinfo)
    s["bad_sig"] = message(kinfo, sig=b"0" * 64)
    s["short_sig"] = message(kinfo, sig=b"abc")
    s["no_sig"] = message(kinfo, sig=b"")
    s["upper_sig"] = message(kinfo, sig=sign([json.dumps(p).encode() for p in kinfo]).upper())
    s["wrong_key_sig"] = message(kinfo, sig=sign([json.dumps(p).encode() for p in kinfo], b"other"))
    # truncated: cut the good message at several places
    for cut in (1, 4, 12, 30, len(good) // 2, len(good) - 1):
        s[f"truncated_{cut}"] = good[:cut]
    # odd frame counts
    s["only_delim"] = bytes([SIGNED]) + frame(b"<IDS|MSG>")
    s["no_delim"] = bytes([SIGNED]) + b"".join(frame(json.dumps(p).encode()) for p in kinfo)
    s["five_after_delim"] = bytes([0]) + frame(b"<IDS|MSG>") + b"".join(frame(b"{}") for _ in range(5))
    s["two_delims"] = bytes([0]) + frame(b"<IDS|MSG>") + frame(b"<IDS|MSG>") + b"".join(
        frame(json.dumps(p).encode()) for p in kinfo)
    s["empty_frames"] = bytes([0]) + frame(b"") * 10
    s["many_frames_zmq"] = bytes([VIA_ZMQ]) + frame(b"x") * 4100 + frame(b"<IDS|MSG>") + frame(b"") + \
        b"".join(frame(json.dumps(p).encode()) for p in kinfo)
    s["delim_prefix"] = message(kinfo, ids=[b"<IDS|MSG", b"<IDS|MSG>x"], flags=0)
    # huge frames (padded with blanks, signed over the blanks)
    s["huge_content"] = message(execute, pads=[0, 0, 0, 30])
    s["huge_header_zmq"] = message(kinfo, flags=SIGNED | VIA_ZMQ, pads=[16, 0, 0, 0])
    s["huge_unsigned"] = message(kinfo, flags=0, pads=[0, 10, 10, 10])
    # malformed JSON and wrong types
    bad_json = [b"{", b"", b"{\"a\":}", b"[1,2", b"nul", b"{\"msg_type\": \"x\"\x00}", b"\xff\xfe{}",
                b"{\"a\": \"\\ud800\"}", b"1e99999", b"{\"a\": 123456789012345678901234567890}",
                b"[" * 3000 + b"]" * 3000, b"{\"a\":" * 1000 + b"1" + b"}" * 1000]
    for i, bj in enumerate(bad_json):
        s[f"bad_json_header_{i}"] = message([bj, {}, {}, {}])
        s[f"bad_json_content_{i}"] = message([header(), {}, {}, bj], flags=0)
    s["header_array"] = message([[1, 2], {}, {}, {}])
    s["header_string"] = message([b"\"hello\"", {}, {}, {}])
    s["content_array"] = message([header(), {}, {}, [1]])
    s["content_null"] = message([header(), {}, {}, b"null"])
    s["msg_type_int"] = message([header(msg_type=5), {}, {}, {}])
    s["msg_id_null"] = message([header(msg_id=None), {}, {}, {}])
    s["no_session"] = message([{k: v for k, v in header().items() if k != "session"}, {}, {}, {}])
    s["code_int"] = message([header(), {}, {}, {"code": 42, "silent": "yes", "user_expressions": []}])
    s["dup_keys"] = message([b"{\"msg_type\":\"a\",\"msg_type\":\"b\",\"msg_id\":\"1\",\"session\":\"s\"}",
                             {}, {}, {}], flags=0)
    s["nested_deep"] = message([header(), {}, {}, {"x": json.loads("[" * 500 + "]" * 500)}], flags=0)
    return s


def connection_seeds():
    good = {"transport": "tcp", "ip": "127.0.0.1", "shell_port": 50001, "control_port": 50002,
            "stdin_port": 50003, "iopub_port": 50004, "hb_port": 50005,
            "key": "a0436f6c-1916-498b-8eb9-e81ab9368e84", "signature_scheme": "hmac-sha256",
            "kernel_name": "c"}
    s = {"good": json.dumps(good, indent=1).encode()}
    s["ipc"] = json.dumps(dict(good, transport="ipc", ip="/tmp/kernel-x")).encode()
    s["no_key"] = json.dumps(dict(good, key="", signature_scheme="")).encode()
    s["minimal"] = json.dumps({k: good[k] for k in good if k.endswith("_port")}).encode()
    s["sha512"] = json.dumps(dict(good, signature_scheme="hmac-sha512")).encode()
    s["port_zero"] = json.dumps(dict(good, shell_port=0)).encode()
    s["port_big"] = json.dumps(dict(good, hb_port=70000)).encode()
    s["port_string"] = json.dumps(dict(good, iopub_port="50004")).encode()
    s["port_float"] = json.dumps(dict(good, stdin_port=5.5)).encode()
    s["ip_long"] = json.dumps(dict(good, ip="1" * 300)).encode()
    s["ip_empty"] = json.dumps(dict(good, ip="")).encode()
    s["transport_udp"] = json.dumps(dict(good, transport="udp")).encode()
    s["key_int"] = json.dumps(dict(good, key=1)).encode()
    s["key_nul"] = b'{"shell_port":1,"control_port":2,"stdin_port":3,"iopub_port":4,"hb_port":5,"key":"a\\u0000b"}'
    s["array"] = b"[1,2,3]"
    s["truncated"] = json.dumps(good).encode()[:40]
    s["empty"] = b""
    s["garbage"] = b"\xff\x00\x01not json"
    return s


def ipc_seeds():
    magic = b"\xff\xfeck"

    def head(n):
        return magic + struct.pack("<I", n)

    def ev(obj):
        b = json.dumps(obj).encode()
        return head(len(b)) + b
    ready = ev({"ev": "ready", "pid": 123, "takeover": False})
    done = ev({"ev": "done", "status": "ok", "result": {"text/plain": "1"}, "diagnostics": None})
    crash = ev({"ev": "crash", "ename": "Crash", "evalue": "Segmentation fault", "traceback": ["a", "b"]})
    s = {
        "ready": b"\x03" + ready,
        "sequence": bytes([len(ready) + 2]) + ready + done + crash,
        "split_header": b"\x02" + done,
        "bad_json": b"\x00" + head(5) + b"{bad}" + done,
        "huge_len": b"\x00" + head(0xFFFFFFFF) + b"{}",
        "too_big": b"\x00" + head((64 << 20) + 1) + b"{}" + ready,
        "zero_len": b"\x00" + head(0) + ready,
        "scalar": b"\x00" + head(1) + b"1",
        "partial": b"\x00" + ready[:-3],
        # what a cell may write to the event pipe before the worker's own frames
        "garbage_first": b"\x05" + b"\xff\xff\xff\x7f garbage" + done,
        "old_framing": b"\x00" + struct.pack("<I", 5) + b"{bad}" + ready,
        "forged_partial": b"\x10" + head(100) + b'{"ev"' + done,
        "magic_prefix_tail": b"\x00" + done + b"\xff\xfe",
    }
    return s


def cell_seeds():
    """What users type: every program in tests/programs and every code cell
    of the bundled notebooks, plus the texts that once broke the splitter."""
    repo = os.path.dirname(os.path.dirname(HERE))
    s = {}
    progs = os.path.join(repo, "tests", "programs")
    for f in sorted(os.listdir(progs)):
        if f.endswith(".c"):
            with open(os.path.join(progs, f), "rb") as fh:
                s["program_" + f[:-2]] = fh.read()
    nbdir = os.path.join(repo, "notebooks")
    for nb in sorted(os.listdir(nbdir)):
        if not nb.endswith(".ipynb"):
            continue
        with open(os.path.join(nbdir, nb)) as fh:
            cells = json.load(fh)["cells"]
        for i, c in enumerate(cells):
            if c["cell_type"] == "code":
                s[f"nb{nb[:2]}_{i:03d}"] = "".join(c["source"]).encode()
    s.update({
        "utf8_ident": "int Lef\u00e8vre = 2;\nLef\u00e8vre + 1".encode(),
        "macro_defs": b"#define DEF(n) int f##n(void) { return n; }\nDEF(1)\nDEF(2)\n",
        "main_in_if": b"#include <stdio.h>\n#if 1\nint main(void) { puts(\"hi\"); return 0; }\n#endif\n",
        "label_error": b"void f(void)\n{\nlab: ;\n  return 1 +;\n}\n",
        "magics": b"%cflags -O2 -DX=1\n%lib m\n%args a 'b c'\n%timeout 1.5\nint x;\n",
        "open_comment": b"int x = 1; /* never closed",
        "nul_inside": b"int a = 1;\x00int b = 2;",
    })
    return s


def write(name, seeds):
    d = os.path.join(HERE, "corpus", name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for k, v in seeds.items():
        with open(os.path.join(d, k), "wb") as f:
            f.write(v)


if __name__ == "__main__":
    write("wire", wire_seeds())
    write("connection", connection_seeds())
    write("ipc", ipc_seeds())
    write("cell", cell_seeds())
