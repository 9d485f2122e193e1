"""Claims that show what they compare (nb_check_lt and its siblings), and
the CPU-time figure of a benchmark that timing claims compare."""
from .conftest import errors, run, run_ok, stdout_text


def test_a_claim_that_holds_prints_both_figures(kc):
    out = run_ok(kc, "int three = 3;\nnb_check_lt(three, 2 * three, \"three is less than %s\", \"six\");")
    assert out == "\u2713 three is less than six: three = 3 < 2 * three = 6\n", out
    out = run_ok(kc, "nb_check_eq(0.5 + 0.25, 0.75);\nnb_check_ge(10, 10);")
    assert out == "\u2713 0.5 + 0.25 = 0.75 == 0.75\n\u2713 10 >= 10\n", out


def test_a_claim_that_fails_names_its_figures(kc):
    reply, msgs = run(kc, "double fast = 2.5, slow = 1.25;\nnb_check_gt(slow, fast, \"slow is slower\");")
    assert reply["status"] == "error", reply
    (err,) = errors(msgs)
    assert err["ename"] == "CheckFailed", err
    assert "slow is slower" in err["evalue"] and "slow = 1.25 > fast = 2.5" in err["evalue"], err
    assert "\u2713" not in stdout_text(msgs)


def test_a_benchmark_reports_cpu_time_per_op(kc):
    out = run_ok(kc, "nb_bench_time(0.01);\n"
                     "for (NB_BENCH(b, \"spin\")) { for (long i = 0; i < b->n; i++) nb_keep(i * i); }\n"
                     "nb_result r = nb_bench_last();\n"
                     "nb_check_gt(r.cpu_ns_per_op, 0);\n"
                     "nb_check_lt(r.cpu_ns_per_op, 1.5 * r.max_ns_per_op + 1, \"CPU time is within the wall time\");")
    assert "\u2713 CPU time is within the wall time" in out, out
