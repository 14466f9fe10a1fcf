"""`qifu bench appeals` end to end on a tiny load (issue 10): it loads the appeals with their events, starts the
production server (`qifu serve`), files appeals over HTTP with API tokens, times the lists and search, and prints
PASS or FAIL per target with exit status 1 on any FAIL. The figures themselves are docs/performance.md's."""

import re

from tests.served import ON_POSTGRES, Installation


def test_a_tiny_run_loads_serves_files_times_and_judges(tmp_path):
    inst = Installation(tmp_path, "postgresql" if ON_POSTGRES else "sqlite")
    try:
        inst.migrate()
        result = inst.qifu("bench", "appeals", "--appeals", "300", "--clients", "1,2", "--seconds", "0.5",
                           "--warmup", "0.1", "--list-runs", "1", check=False, timeout=240)
    finally:
        inst.drop()
    out = result.stdout
    assert "loaded 300 appeals" in out, out + result.stderr
    assert re.search(r"^intake, 2 clients: [\d.]+ appeals/s \(\d+ in 0.5 s\), p50 \d+ ms", out, re.M), out
    # on PostgreSQL the tables the intake wrote are vacuumed before the lists are timed (autovacuum's work)
    assert ("VACUUM ANALYZE after the intake: " in out) == ON_POSTGRES, out
    verdicts = [line for line in out.splitlines() if line.startswith(("PASS ", "FAIL "))]
    assert any(line.endswith("no errors (0)") for line in verdicts), out
    for kind in ("page", "API"):
        assert any(line.split(" ", 1)[1].startswith(f"{kind} q=an appeal number (exact) p95") for line in verdicts)
    assert result.returncode == (1 if any(v.startswith("FAIL") for v in verdicts) else 0), result.stderr
