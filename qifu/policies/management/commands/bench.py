import sys

from django.core.management.base import BaseCommand, CommandError

BENCHMARKS = {"policy-match": "match synthetic enterprises against synthetic clauses (batch vs one at a time)",
              "policy-match-db": "政策找人 database to database: --enterprises and --clauses loaded into the configured "
                                 "database (a scratch region), then `qifu policy match`, one clause published, one "
                                 "enterprise changed",
              "sla-sweep": "the SLA sweep on the configured database (a scratch region of --cases running cases)",
              "routing": "routing suggestions: held-out accuracy (section, lead unit) and latency on the configured "
                         "database's assigned appeals (e.g. after `qifu demo --load-only`)",
              "stats": "a month's appeal statistics by unit and the appeals list with filters, on --appeals synthetic "
                       "appeals with their events loaded into the configured database (reused unless --reload)",
              "search": "search (qifu.search): p50/p95 of typical Chinese queries over --documents synthetic documents "
                        "indexed in the configured database (reused unless --reload)",
              "appeals": "appeal intake at 1/8/32 clients through the production server (qifu serve) over HTTP, "
                         "then the appeals list, its filters and search, on --appeals synthetic appeals (the load of "
                         "`stats`, reused unless --reload); PASS/FAIL per target, exit 1 on any FAIL"}


def machine() -> str:
    """"N CPUs, Python x, Django y, engine" — what every database benchmark prints first."""
    import os
    import platform

    import django
    from django.db import connection

    return (f"{os.cpu_count()} CPUs, Python {platform.python_version()}, Django {django.get_version()}, "
            f"{connection.vendor}; {machine_speed()}")


def machine_speed() -> str:
    """How fast this machine's core is just now: the CPU time of a fixed pure-Python loop (2,000,000 additions).
    A shared virtual machine's speed changes from hour to hour (here 0.24–0.50 s for the same loop); figures taken
    at different speeds compare through it."""
    import time

    started, total = time.process_time(), 0
    for i in range(2_000_000):
        total += i
    return f"2M-step Python loop {(time.process_time() - started) * 1000:,.0f} ms CPU"


def load_average() -> str:
    """The three load averages, "1.20 1.05 0.90"."""
    import os

    return " ".join(f"{x:.2f}" for x in os.getloadavg())


class Command(BaseCommand):
    help = "Benchmarks: " + "; ".join(f"{k}: {v}" for k, v in BENCHMARKS.items())
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("benchmark", choices=sorted(BENCHMARKS), help="which benchmark to run")
        parser.add_argument("--enterprises", type=int, default=1_000_000, help="synthetic enterprises (rows)")
        parser.add_argument("--clauses", type=int, default=1_000, help="synthetic clauses")
        parser.add_argument("--sample", type=int, default=200,
                            help="enterprises evaluated one at a time (against all clauses) for the ratio")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--cases", type=int, default=10_000, help="sla-sweep: running cases")
        parser.add_argument("--no-missing", action="store_true", help="skip the missing-fields column")
        parser.add_argument("--duckdb", action="store_true",
                            help="policy-match: after the batch match, the same clauses in DuckDB over the same frame "
                                 "(needs the optional extra: pip install -e '.[bench]'); use with --no-missing")
        parser.add_argument("--duckdb-sample", type=int, default=10_000,
                            help="policy-match --duckdb: enterprises whose pairs are compared between the two")
        parser.add_argument("--region", default="", help="routing: the region's code (default: every region with "
                                                         "assigned appeals)")
        parser.add_argument("--holdout", type=float, default=0.2,
                            help="routing: the share of assigned appeals held out (the newest by id)")
        parser.add_argument("--appeals", type=int, default=1_000_000, help="stats: synthetic appeals")
        parser.add_argument("--reload", action="store_true",
                            help="stats, appeals, search, policy-match-db: load again even if already loaded")
        parser.add_argument("--documents", type=int, default=50_000, help="search: synthetic documents")
        parser.add_argument("--repeat", type=int, default=5, help="stats: runs of each timing (median and best)")
        parser.add_argument("--month", default="2026-10", help="stats: the month timed (YYYY-MM)")
        parser.add_argument("--no-lists", action="store_true", help="stats: time the statistics only")
        parser.add_argument("--no-stats", action="store_true", help="stats: time the appeals lists only")
        parser.add_argument("--clients", default="1,8,32", help="appeals: concurrent intake clients, comma-separated")
        parser.add_argument("--seconds", type=float, default=20.0, help="appeals: intake seconds per client count")
        parser.add_argument("--warmup", type=float, default=2.0, help="appeals: seconds of intake not counted first")
        parser.add_argument("--list-runs", type=int, default=20, help="appeals: runs of each list query (p95)")
        parser.add_argument("--workers", type=int, default=None, help="appeals: the server's processes "
                                                                      "(default: qifu serve's)")
        parser.add_argument("--threads", type=int, default=None, help="appeals: threads per server process")
        parser.add_argument("--server-log", default=None, help="appeals: write the server's output to this file")
        parser.add_argument("--server-source", default=None, help="appeals: serve the code of another checkout "
                                                                  "(its directory first on PYTHONPATH), e.g. to "
                                                                  "measure the code before a change on one database")
        parser.add_argument("--again", action="store_true",
                            help="policy-match-db: match the region a second time (nothing changed)")

    def verdict(self, checks: dict) -> None:
        """PASS/FAIL per target; exit status 1 if any fails."""
        for name, ok in checks.items():
            self.stdout.write(f"{'PASS' if ok else 'FAIL'} {name}")
        if not all(checks.values()):
            sys.exit(1)

    def handle(self, *args, benchmark, **opts):
        if benchmark == "policy-match":
            return self.policy_match(**opts)
        if benchmark == "policy-match-db":
            return self.policy_match_db(**opts)
        if benchmark == "sla-sweep":
            return self.sla_sweep(**opts)
        if benchmark == "routing":
            return self.routing(**opts)
        if benchmark == "stats":
            return self.stats(**opts)
        if benchmark == "search":
            return self.search(**opts)
        if benchmark == "appeals":
            return self.appeals(**opts)
        raise CommandError(f"unknown benchmark {benchmark}")  # pragma: no cover (argparse refuses it)

    def policy_match(self, enterprises, clauses, sample, seed, no_missing, duckdb=False, duckdb_sample=10_000, **_):
        import os
        import platform

        import polars as pl

        from qifu.policies import bench

        if enterprises < 1 or clauses < 1 or sample < 1:
            raise CommandError("--enterprises, --clauses and --sample must be positive")
        after_batch = None
        if duckdb:
            from qifu.policies import duckbench

            import importlib.util

            # DuckDB reads the Polars frame and returns its result through pyarrow
            if any(importlib.util.find_spec(m) is None for m in ("duckdb", "pyarrow")):
                raise CommandError(duckbench.INSTALL_HINT, returncode=2)
            after_batch = self._duckdb_run(duckbench, max(1, duckdb_sample), no_missing)
        out = self.stdout
        out.write(f"qifu bench policy-match: {enterprises:,} enterprises × {clauses:,} clauses, seed {seed}")
        out.write(f"machine: {os.cpu_count()} CPUs ({pl.thread_pool_size()} Polars threads), "
                  f"Python {platform.python_version()}, Polars {pl.__version__}")
        f = bench.run_policy_match(enterprises, clauses, sample, seed, missing=not no_missing,
                                   log=lambda line: out.write(line), after_batch=after_batch)
        peak = f"{f.peak_match_mib:,.0f} MiB during the match" if f.peak_match_mib else "n/a during the match"
        start = f"{f.rss_before_mib:,.0f} MiB" if f.rss_before_mib else "n/a"
        out.write(f"memory: {start} resident before the match, peak {peak}; process peak (ru_maxrss) "
                  f"{f.peak_process_mib:,.0f} MiB")
        self.verdict(f.checks)

    def _duckdb_run(self, duckbench, sample, no_missing):
        """The `after_batch` step of `policy-match --duckdb`: DuckDB on the same frame and clauses, timed
        (wall and CPU), and its pairs compared with the batch engine's on `sample` enterprises."""
        out = self.stdout

        def step(frame, clause_list, result, batch_s, batch_cpu_s):
            import polars as pl

            from qifu.policies import bench

            d = duckbench.run(clause_list, frame, bench.ON)
            out.write(f"duckdb {d.version}: {d.wall_s:.2f} s ({d.register_s:.2f} s registering the frame and "
                      f"computing years_since; planning alone, by EXPLAIN, {d.plan_s:.2f} s), CPU {d.cpu_s:.2f} s, "
                      f"{d.threads} threads; {d.pairs:,} pairs "
                      f"({d.eligible:,} eligible, {d.unknown:,} unknown)")
            out.write(f"batch engine {batch_s:.2f} s, CPU {batch_cpu_s:.2f} s, {pl.thread_pool_size()} Polars threads"
                      f"{'' if no_missing else ' (with the missing column: compare with --no-missing)'}; "
                      f"DuckDB/batch: wall {d.wall_s / max(batch_s, 1e-9):.2f}×, "
                      f"CPU {d.cpu_s / max(batch_cpu_s, 1e-9):.2f}×")
            ids = frame.get_column("id").sample(min(sample, frame.height), seed=1)
            c = duckbench.compare(result, d.result, ids)
            out.write(f"compared on {ids.len():,} enterprises ({c['pairs']:,} batch pairs; the missing column is "
                      f"not compared): {c['mismatches']:,} mismatches ({c['only_batch']:,} batch only, "
                      f"{c['only_duckdb']:,} DuckDB only, {c['status']:,} status, {c['amount']:,} amount ≥ 1 cent)")
            d.result = None

        return step

    def policy_match_db(self, enterprises, clauses, seed, again, reload, **_):
        import os
        import platform

        import django
        import polars as pl
        from django.db import connection

        from qifu.policies import dbbench

        if enterprises < 1 or clauses < 1:
            raise CommandError("--enterprises and --clauses must be positive")
        out = self.stdout
        out.write(f"qifu bench policy-match-db: {enterprises:,} enterprises × {clauses:,} clauses, seed {seed}; "
                  f"{os.cpu_count()} CPUs, Python {platform.python_version()}, Polars {pl.__version__}, "
                  f"Django {django.get_version()}, {connection.vendor}; "
                  f"load average {load_average()}")
        f = dbbench.run(enterprises, clauses, seed, again=again, reload=reload, log=lambda line: out.write(line))
        out.write(f"process peak (ru_maxrss) {f.peak_process_mib:,.0f} MiB; load average at the end: {load_average()}")
        self.verdict(f.checks)

    def sla_sweep(self, cases, seed, **_):
        from qifu.supervision import bench

        if cases < 1:
            raise CommandError("--cases must be positive")
        out = self.stdout
        out.write(f"qifu bench sla-sweep: {cases:,} running cases, seed {seed}; {machine()}")
        f = bench.run(cases, seed, log=lambda line: out.write(line))
        self.verdict(f.checks)

    def routing(self, region, holdout, **_):
        from django.db.models import Q

        from qifu.appeals import routing
        from qifu.appeals.models import Appeal
        from qifu.org.models import Region

        if not 0 < holdout < 1:
            raise CommandError("--holdout must be between 0 and 1")
        assigned = Appeal.objects.filter(Q(section__isnull=False) | Q(lead_department__isnull=False))
        regions = Region.objects.filter(pk__in=assigned.values("region_id")).order_by("code")
        if region:
            regions = regions.filter(code=region)
        if not regions:
            raise CommandError("no assigned appeals to learn from (load some first, e.g. `qifu demo --load-only`)")
        out = self.stdout
        out.write(f"qifu bench routing: held out {holdout:.0%} (the newest by id); {machine()}")

        def pct(x):
            return "n/a" if x is None else f"{x:.1%}"

        for r in regions:
            e = routing.evaluate(r.pk, holdout)
            out.write(f"region {e.region}: trained on {e.train}, tested on {e.test} "
                      f"({e.classes[0]} sections, {e.classes[1]} units)")
            out.write(f"  section: top-1 {pct(e.section_top1)}, top-3 {pct(e.section_top3)} of {e.section_tested} "
                      f"(always the most frequent: {pct(e.baseline[0])})")
            out.write(f"  lead unit: top-1 {pct(e.lead_top1)}, top-3 {pct(e.lead_top3)} of {e.lead_tested} "
                      f"(always the most frequent: {pct(e.baseline[1])})")
            out.write(f"  held-out texts not in the training part word for word: {e.test - e.verbatim} of {e.test}; "
                      f"top-1 on them: section {pct(e.unseen_top1[0])}, lead unit {pct(e.unseen_top1[1])}")
            out.write(f"  model build from cold (jieba on every case, in this process): "
                      f"{e.latency_ms['build']:.0f} ms; the freshness check (stamp): {e.latency_ms['stamp']:.1f} ms")
            if "p50" in e.latency_ms:
                out.write(f"  suggestion latency: p50 {e.latency_ms['p50']:.1f} ms, p95 {e.latency_ms['p95']:.1f} ms, "
                          f"max {e.latency_ms['max']:.1f} ms (cached model, similar cases included)")

    def search(self, documents, seed, reload, repeat, **_):
        from qifu.search import bench

        if documents < 1 or repeat < 1:
            raise CommandError("--documents and --repeat must be positive")
        out = self.stdout
        out.write(f"qifu bench search: {documents:,} documents, seed {seed}, {repeat} runs of {len(bench.QUERIES)} "
                  f"queries × 2 scopes; {machine()}; load average {load_average()}")
        f = bench.run(documents, seed, reload=reload, repeat=repeat, log=lambda line: out.write(line))
        out.write(f"p50 {f.p50_ms:.1f} ms, p95 {f.p95_ms:.1f} ms; load average at the end: {load_average()}")
        self.verdict(f.checks)

    def stats(self, appeals, seed, reload, repeat, month, no_lists, no_stats, **_):
        from qifu.appeals import bench

        if appeals < 1 or repeat < 1:
            raise CommandError("--appeals and --repeat must be positive")
        out = self.stdout
        out.write(f"qifu bench stats: {appeals:,} appeals, seed {seed}; {machine()}; load average {load_average()}")
        f = bench.run(appeals, seed, reload=reload, repeat=repeat, month=month, lists=not no_lists,
                      time_stats=not no_stats, log=lambda line: out.write(line))
        out.write(f"load average at the end: {load_average()}; {machine_speed()}")
        self.verdict(f.checks)

    def appeals(self, appeals, seed, reload, clients, seconds, warmup, list_runs, workers, threads, server_log,
                server_source, no_lists, **_):
        from qifu.appeals import bench_intake

        try:
            counts = tuple(int(c) for c in clients.split(",") if c.strip())
        except ValueError:
            raise CommandError("--clients: whole numbers, comma-separated (e.g. 1,8,32)") from None
        if appeals < 1 or list_runs < 1 or seconds <= 0 or warmup < 0 or not counts or min(counts) < 1:
            raise CommandError("--appeals, --list-runs, --seconds and --clients must be positive")
        out = self.stdout
        out.write(f"qifu bench appeals: {appeals:,} appeals, seed {seed}; {machine()}; load average {load_average()}")
        f = bench_intake.run(appeals, seed, reload=reload, clients=counts, seconds=seconds, warmup=warmup,
                             list_runs=list_runs, workers=workers, threads=threads, server_log=server_log,
                             server_source=server_source, lists=not no_lists, log=lambda line: out.write(line))
        out.write(f"load average at the end: {load_average()}; {machine_speed()}")
        self.verdict(f.checks)
