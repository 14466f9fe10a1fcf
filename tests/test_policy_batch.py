"""The vectorized batch engine gives the scalar engine's answers, pair by pair.

(a) the YAML cases in tests/policy_cases, (b) a randomized differential test over random enterprises
(with random nulls) and random clauses covering every operator, nesting, expression leaves, tiers and
caps, (c) the numeric helpers (years_since, 四舍五入, the final 2-decimal rounding) on awkward values.
"""

import datetime
import random
from pathlib import Path

import polars as pl
import pytest

from qifu.rules import batch, clauses, yamlio
from qifu.rules.values import round_half_up, years_between

HERE = Path(__file__).parent / "policy_cases"
D = datetime.date


def scalar_pairs(clause_list, frame, on, id_column="id"):
    """{(id, clause): (status, amount, missing)} from clauses.evaluate, for the pairs not ineligible."""
    out = {}
    for record in frame.iter_rows(named=True):
        ident = record.pop(id_column)
        for clause in clause_list:
            o = clauses.evaluate(clause, record, on)
            if o.status != "ineligible":
                out[(ident, clause.code)] = (o.status, o.amount, o.missing)
    return out


def batch_pairs(clause_list, frame, on):
    result = batch.match_frame(clause_list, frame, on)
    assert result.columns == ["id", "clause", "status", "amount", "missing"]
    pairs = {(r["id"], r["clause"]): (r["status"], r["amount"], r["missing"]) for r in result.iter_rows(named=True)}
    assert len(pairs) == result.height, "a pair appears twice"
    return pairs


def assert_same(clause_list, frame, on):
    want, got = scalar_pairs(clause_list, frame, on), batch_pairs(clause_list, frame, on)
    problems = []
    for key in sorted(set(want) | set(got), key=str):
        w, g = want.get(key), got.get(key)
        if w is None or g is None:
            problems.append(f"{key}: scalar {w}, batch {g}")
            continue
        (ws, wa, wm), (gs, ga, gm) = w, g
        if ws != gs or (wa is None) != (ga is None) or (wa is not None and abs(wa - ga) > 0.005) or wm != gm:
            problems.append(f"{key}: scalar {w}, batch {g}")
    assert not problems, f"{len(problems)} differences, e.g.\n" + "\n".join(problems[:15])
    return want


# --- (a) the YAML cases ------------------------------------------------------------------------------

def test_the_yaml_cases_give_the_same_answers():
    policies = yamlio.parse_policies(HERE / "policies.yaml")
    clause_list = [c for p in policies for c in p.clauses]
    cases = yamlio.parse_cases(HERE / "cases.yaml")
    frame = batch.frame_from_records([{"id": i, **c.enterprise} for i, c in enumerate(cases)])
    seen = 0
    for on in sorted({c.on for c in cases}):
        seen += len(assert_same(clause_list, frame, on))
    assert seen > 20
    # and the expectations written in the cases hold for the batch result too
    for i, case in enumerate(cases):
        result = batch.match_frame(clause_list, frame.filter(pl.col("id") == i), case.on)
        rows = {r["clause"]: r for r in result.iter_rows(named=True)}
        for code, expected in case.expect.items():
            want = expected.get("eligible") if isinstance(expected, dict) else expected
            row = rows.get(code)
            word = "false" if row is None else ("true" if row["status"] == "eligible" else "unknown")
            if want is not None:
                assert word == yamlio._eligible_word(want), (case.name, code)
            if isinstance(expected, dict) and expected.get("amount") is not None and row is not None:
                assert row["amount"] == pytest.approx(float(expected["amount"]), abs=0.005), (case.name, code)


def test_clauses_not_in_force_produce_nothing_and_output_is_typed():
    policies = yamlio.parse_policies(HERE / "policies.yaml")
    clause_list = [c for p in policies for c in p.clauses]
    frame = batch.frame_from_records([{"id": 1, "rd_expense": 5_000_000, "industry": "C2710", "employees": 10}])
    result = batch.match_frame(clause_list, frame, D(2027, 1, 1))
    assert not result.filter(pl.col("clause").cast(pl.String).str.starts_with("T-RD")).height
    assert result.schema["status"] == batch.STATUS and result.schema["amount"] == pl.Float64
    empty = batch.match_frame([], frame, D(2026, 6, 1))
    assert empty.height == 0 and empty.columns == ["id", "clause", "status", "amount", "missing"]


# --- (b) randomized differential test -------------------------------------------------------------

INDUSTRIES = ["C2710", "C2720", "C3511", "C3990", "I6513", "I6520", "M7320", "A0111", "C27", ""]
SIZES = ["micro", "small", "medium", "large"]
PLACES = ["qt-baiyang", "qt-xiasha", "qt-jiangdong", "xs-chengxiang"]
TAGS = ["专精特新", "高新技术企业", "科技型中小企业", "失信企业", "规上企业"]
CODES = ["123", "1.5", " 7 ", "1_000", "abc", "2020-01-01", "20200102", "2020-1-1", "-3e2", "1__0", ".5", "5.",
         "True", "inf", "007", "2024-02-29T08:00"]
FIELDS_NUM = ["employees", "revenue", "rd_expense", "tax"]
FIELDS_INT = ["employees", "revenue", "rd_expense"]


def random_enterprises(rng: random.Random, n: int) -> pl.DataFrame:
    def maybe(value, p=0.15):
        return None if rng.random() < p else value

    def day():
        if rng.random() < 0.1:
            return D(rng.choice([2000, 2004, 2016, 2020, 2024]), 2, 29)
        return D(2000, 1, 1) + datetime.timedelta(days=rng.randrange(0, 365 * 30))

    rows = []
    for i in range(n):
        rows.append({
            "id": i,
            "employees": maybe(rng.choice([0, 1, 5, 10, 50, 99, 100, 101, 280, 300, 1000, rng.randrange(0, 2000)])),
            "revenue": maybe(rng.choice([0, 9_999_999, 10_000_000, 50_000_000, rng.randrange(0, 300_000_000)])),
            "rd_expense": maybe(rng.choice([0, 999_999, 1_000_000, 2_345_678, rng.randrange(0, 30_000_000)])),
            "tax": maybe(rng.choice([0.0, 0.125, 2.675, 1.005, 1234.565, -50.5, round(rng.uniform(0, 1e6), 3),
                                     rng.uniform(-10, 1e7)])),
            "industry": maybe(rng.choice(INDUSTRIES)),
            "size": maybe(rng.choice(SIZES)),
            "jurisdiction": maybe(rng.choice(PLACES)),
            "code": maybe(rng.choice(CODES)),
            "registration_date": maybe(day()),
            "approved_at": maybe(datetime.datetime(2020, 1, 1) + datetime.timedelta(hours=rng.randrange(0, 60000))),
            "listed": maybe(rng.random() < 0.3),
            "tags": maybe(rng.sample(TAGS, rng.randrange(0, 3))),
        })
    schema = {"id": pl.Int64, "employees": pl.Int64, "revenue": pl.Int64, "rd_expense": pl.Int64, "tax": pl.Float64,
              "industry": pl.String, "size": pl.String, "jurisdiction": pl.String, "code": pl.String,
              "registration_date": pl.Date, "approved_at": pl.Datetime("us"), "listed": pl.Boolean,
              "tags": pl.List(pl.String)}
    return pl.DataFrame(rows, schema=schema, orient="row")


class ClauseMaker:
    """Random clauses in data form, covering every leaf operator, nesting, expr leaves, tiers and caps."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def pick(self, *xs):
        return self.rng.choice(xs)

    # expressions (as source text)
    def num(self, depth=0) -> str:
        r = self.rng.random()
        if depth > 2 or r < 0.3:
            return self.pick(*FIELDS_NUM, "employees", str(self.rng.randrange(0, 100)), "0.015", "1000000", "0",
                             "2.5", "-3")
        kind = self.pick("arith", "arith", "intdiv", "minmax", "fn", "round", "bracket", "years", "if", "code")
        if kind == "arith":
            return f"({self.num(depth + 1)} {self.pick('+', '-', '*', '/')} {self.num(depth + 1)})"
        if kind == "intdiv":
            return f"({self.pick(*FIELDS_INT, '17', '-7')} {self.pick('//', '%')} {self.pick(*FIELDS_INT, '3', '-2', '0')})"
        if kind == "minmax":
            args = ", ".join(self.num(depth + 1) for _ in range(self.rng.randrange(1, 4)))
            return f"{self.pick('min', 'max')}({args})" if self.rng.random() < 0.8 else f"min([{args}])"
        if kind == "fn":
            return f"{self.pick('abs', 'floor', 'ceil')}({self.num(depth + 1)})"
        if kind == "round":
            return f"round({self.num(depth + 1)}" + (f", {self.rng.randrange(-3, 4)})" if self.rng.random() < 0.7 else ")")
        if kind == "bracket":
            return (f"bracket({self.pick('revenue', 'employees', 'tax')}, "
                    "[[10000000, 50000], [50000000, 100000], [100, 7.5], [100000000, 200000]])")
        if kind == "years":
            return f"years_since({self.pick('registration_date', 'approved_at', 'registration_date', 'code')})"
        if kind == "if":
            return f"({self.num(depth + 1)} if {self.boolean(depth + 1)} else {self.num(depth + 1)})"
        return f"({self.pick('code', 'code * 2', '-code')})"

    def boolean(self, depth=0) -> str:
        r = self.rng.random()
        if depth > 2 or r < 0.55:
            kind = self.pick("cmp", "cmp", "chain", "str", "date", "in", "tag", "codecmp", "listed")
            if kind == "cmp":
                return f"{self.num(depth + 1)} {self.pick('==', '!=', '<', '<=', '>', '>=')} {self.num(depth + 1)}"
            if kind == "chain":
                return f"1 < {self.pick(*FIELDS_NUM)} <= {self.rng.randrange(50, 400)}"
            if kind == "str":
                return self.pick(f"industry == '{self.pick(*INDUSTRIES)}'", "size != 'large'", "industry < 'D'",
                                 "'C' in industry", "size in ['small', 'micro']", "jurisdiction not in ['qt-xiasha']")
            if kind == "date":
                return self.pick("registration_date < '2015-01-01'", "registration_date >= approved_at",
                                 "registration_date == '2024-02-29'", "approved_at > '2021-06-30'",
                                 "registration_date < 'not a date'", "registration_date != 5",
                                 "years_since(registration_date) >= 3", "years_since(approved_at) < 2.5",
                                 "registration_date < code")
            if kind == "in":
                return self.pick("employees in [10, 50, 100.0, '99', True]", "'高新技术企业' in tags",
                                 "tax in [0.125, 2.675]", "size in ['small', 1]")
            if kind == "tag":
                return f"has_tag('{self.pick(*TAGS)}')"
            if kind == "codecmp":
                return self.pick("code > 100", "code == 1000", "code <= 'b'", "code == '007'", "5 < code",
                                 "code != 7", "listed == 'True'", "listed > 0", "employees < 'abc'")
            return self.pick("listed", "not listed", "listed and employees > 10")
        kind = self.pick("and", "or", "not", "if")
        if kind == "not":
            return f"not ({self.boolean(depth + 1)})"
        if kind == "if":
            return f"({self.boolean(depth + 1)} if {self.boolean(depth + 1)} else {self.boolean(depth + 1)})"
        return f"({self.boolean(depth + 1)} {kind} {self.boolean(depth + 1)})"

    # condition trees (data form)
    def leaf(self):
        rng = self.rng
        op = self.pick("==", "!=", "<", "<=", ">", ">=", "in", "not_in", "between", "prefix", "has_tag", "expr",
                       "expr", "tagfield")
        if op == "expr":
            return {"expr": self.boolean(1)}
        if op == "has_tag":
            return {"has_tag": self.pick(*TAGS)}
        if op == "tagfield":
            return {"field": "tags", "op": "has_tag", "value": self.pick(*TAGS)}
        if op == "prefix":
            field = self.pick("industry", "industry", "employees", "registration_date", "code", "listed", "absent")
            value = self.pick("C", "C27", ["C27", "C35"], "I65", "1", "20", "", ["M", "A0"], [27, "C3"], "Tr")
            return {"field": field, "op": op, "value": value}
        if op in ("in", "not_in"):
            field = self.pick("size", "jurisdiction", "industry", "employees", "registration_date", "code", "listed",
                              "tax", "absent")
            value = self.pick(SIZES[:2], PLACES[:2], INDUSTRIES[:3], [10, 50, 100, 280], [D(2024, 2, 29), "2010-05-05"],
                              ["123", 7, 1.5, "abc"], [True], [0.125, 2.675, "1.005"], [], [None, "small"])
            return {"field": field, "op": op, "value": value}
        if op == "between":
            field = self.pick("employees", "revenue", "tax", "registration_date", "code", "industry", "approved_at")
            value = self.pick([50, 100], [0, 10_000_000], [D(2010, 1, 1), D(2020, 12, 31)],
                              ["2010-01-01", "2020-12-31"], [1, "abc"], ["C2", "C3"], [0.1, 2.675])
            return {"field": field, "op": op, "value": value}
        field = self.pick(*FIELDS_NUM, "industry", "size", "registration_date", "approved_at", "code", "listed",
                          "absent")
        value = self.pick(rng.choice([0, 10, 100, 300, 10_000_000, 2.675]), "small", "C2710", D(2018, 6, 30),
                          "2018-06-30", "12", "abc", True, None, [1, 2], datetime.datetime(2021, 1, 1, 12, 0))
        return {"field": field, "op": op, "value": value}

    def tree(self, depth=0):
        r = self.rng.random()
        if depth >= 3 or r < 0.45:
            return self.leaf()
        if r < 0.55:
            return {"not": self.tree(depth + 1)}
        return {self.pick("all", "any"): [self.tree(depth + 1) for _ in range(self.rng.randrange(1, 5))]}

    def benefit(self):
        return self.pick(
            None, "10000", "min(rd_expense * 0.1, 1000000)",
            "min(bracket(revenue, [[10000000, 50000], [50000000, 100000], [100000000, 200000]])"
            " + round(rd_expense * 0.015, -3), 300000)",
            "floor(years_since(registration_date)) * 10000 + ceil(abs(-0.2))",
            "tax * 1.005", "tax", "round(tax, 2)", "revenue / employees", "employees // 3 + employees % 7",
            "max(employees * 1000, 5000) if has_tag('专精特新') else 0", "code", "listed", "'12.5'",
            "min(tax, rd_expense, revenue)", "1 / 0", "bracket(tax, [[0, 0.005], [1000, 0.015]])",
            "rd_expense * 0.015", "employees * 0.125 - 3", lambda: self.num(0))

    def clause(self, i):
        data = {"code": f"R-{i:03d}", "title": f"random {i}"}
        if self.rng.random() < 0.95:
            data["conditions"] = self.tree()
        b = self.benefit()
        b = b() if callable(b) else b
        if b is not None:
            data["benefit"] = b
        r = self.rng.random()
        if r < 0.1:
            data["effective_from"] = D(2027, 1, 1)
        elif r < 0.2:
            data["effective_to"] = D(2025, 12, 31)
        elif r < 0.3:
            data["effective_from"], data["effective_to"] = D(2026, 1, 1), D(2026, 12, 31)
        return yamlio.parse_clause(data, f"clauses[{i}]")


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_clauses_and_enterprises_match_the_scalar_engine(seed):
    rng = random.Random(seed)
    frame = random_enterprises(rng, 300)
    maker = ClauseMaker(rng)
    clause_list = [maker.clause(i) for i in range(60)]
    on = rng.choice([D(2026, 6, 1), D(2026, 2, 28), D(2024, 2, 29)])
    pairs = assert_same(clause_list, frame, on)
    statuses = [s for s, _, _ in pairs.values()]
    assert statuses.count("eligible") > 50 and statuses.count("unknown") > 50
    assert any(a is not None and a > 0 for _, a, _ in pairs.values())
    # nearly everything compiles to Polars; only the documented exceptions fall back to the scalar engine
    compiler = batch.Compiler(frame.schema, on)
    slow = []
    for c in clause_list:
        try:
            compiler.clause(c)
        except batch.NotVectorizable:
            slow.append(c.code)
    assert len(slow) <= len(clause_list) // 5, slow


def test_the_fallback_for_what_is_not_vectorized_gives_the_scalar_answers():
    rng = random.Random(7)
    frame = random_enterprises(rng, 200)
    texts = ["tax % 3 > 1", "tax // 2.5 == 4", "round(tax, employees % 3) > 3", "tax < 'abc'",
             "(1 if listed else 'x') == 1", "employees in [employees, 5]"]
    clause_list = [yamlio.parse_clause({"code": f"F{i}", "title": "f", "conditions": {"expr": t},
                                        "benefit": "tax % 7"}, "f") for i, t in enumerate(texts)]
    clause_list.append(yamlio.parse_clause({"code": "F-prefix", "title": "f",
                                            "conditions": {"field": "tax", "op": "prefix", "value": "1"}}, "f"))
    for c in clause_list:
        with pytest.raises(batch.NotVectorizable):
            batch.compile_clause(c, frame.schema, D(2026, 6, 1))
    assert_same(clause_list, frame, D(2026, 6, 1))


def test_errors_are_unknown_with_nothing_missing():
    frame = batch.frame_from_records([{"id": 1, "revenue": 100, "employees": 0},
                                      {"id": 2, "revenue": 100, "employees": 4},
                                      {"id": 3, "revenue": None, "employees": 0}])
    clause = yamlio.parse_clause({"code": "E", "title": "e", "conditions": {"field": "revenue", "op": ">", "value": 1},
                                  "benefit": "revenue / employees"}, "e")
    rows = {r["id"]: r for r in batch.match_frame([clause], frame, D(2026, 6, 1)).iter_rows(named=True)}
    assert rows[1]["status"] == "unknown" and rows[1]["amount"] is None and rows[1]["missing"] == []
    assert rows[2]["status"] == "eligible" and rows[2]["amount"] == 25.0
    assert rows[3]["status"] == "unknown" and rows[3]["missing"] == ["revenue"]


# --- (c) numeric helpers --------------------------------------------------------------------------

def test_years_since_is_anniversary_exact_like_the_scalar_engine():
    rng = random.Random(11)
    starts = [D(2024, 2, 29), D(2020, 2, 29), D(2023, 3, 1), D(2026, 6, 1), D(2030, 2, 28), D(1999, 12, 31)]
    starts += [D(1990, 1, 1) + datetime.timedelta(days=rng.randrange(0, 365 * 45)) for _ in range(3000)]
    for on in (D(2025, 2, 28), D(2026, 6, 1), D(2028, 2, 29), D(2027, 3, 1)):
        got = pl.DataFrame({"d": starts}).select(batch.years_since_expr(pl.col("d"), on)).to_series().to_list()
        want = [years_between(s, on) for s in starts]
        assert got == want
    assert pl.select(batch.years_since_expr(pl.lit(D(2024, 2, 29)), D(2025, 2, 28))).item() == 1.0


def test_round_half_up_matches_the_decimal_rounding_bit_for_bit():
    rng = random.Random(12)
    xs = [2.5, -2.5, 0.5, 1.5, 2.675, 1.005, 0.285, 0.29, 35185.17, 1234.5678, 0.125, -0.125, 1e-7, 123456789.125,
          0.0, -0.0, 999.9995, 4.35, 4.45, 1.15, 0.045]
    xs += [round(rng.uniform(-1e6, 1e6), rng.randrange(0, 6)) for _ in range(4000)]
    xs += [rng.uniform(-1e5, 1e5) for _ in range(2000)]
    xs += [rng.randrange(-10**7, 10**7) / 1000 + 0.0005 for _ in range(2000)]
    for digits in (-3, -1, 0, 1, 2, 3):
        big = 2 ** 48 / 10 ** max(digits, 0)  # exact up to here (see round_half_up_expr)
        values = xs + [rng.uniform(-big, big) for _ in range(2000)] + [round(rng.uniform(0, big), digits + 1)
                                                                        for _ in range(2000)]
        got = pl.DataFrame({"x": values}).select(batch.round_half_up_expr(pl.col("x"), digits)).to_series().to_list()
        want = [round_half_up(x, digits) for x in values]
        bad = [(x, g, w) for x, g, w in zip(values, got, want) if g != w]
        assert not bad, (digits, bad[:5])


def test_the_amount_is_pythons_round_to_cents_clamped_at_zero():
    rng = random.Random(13)
    xs = [0.125, 0.375, 2.675, 1.005, 0.005, 0.015, 1234.565, 18518.505, -0.004, -3.0, 0.0, 1e12 + 0.125,
          2.1239374e18, 2.0 ** 52 + 1, 2.0 ** 40 + 0.125, 2.0 ** 40 - 0.005, 3.3e13 + 0.375, 9.1e15 + 0.5]
    xs += [rng.uniform(2 ** 39, 2 ** 56) for _ in range(3000)]
    xs += [rng.randrange(2 ** 40, 2 ** 47) + rng.randrange(0, 64) / 64 for _ in range(3000)]
    xs += [n * 0.015 for n in range(5000)] + [n / 1000 for n in range(5000)]
    xs += [rng.uniform(0, 1e9) for _ in range(5000)] + [rng.randrange(0, 10**9) * 0.005 for _ in range(5000)]
    got = pl.DataFrame({"x": xs}).select(batch.amount_expr(pl.col("x"))).to_series().to_list()
    want = [max(0.0, round(x, 2)) for x in xs]
    bad = [(x, g, w) for x, g, w in zip(xs, got, want) if g != w]
    assert not bad, bad[:5]


# --- (d) the benchmark's synthetic data, and the command -----------------------------------------

def test_the_benchmark_data_matches_the_scalar_engine_too():
    from qifu.policies import bench

    frame = bench.synthetic_enterprises(1500, seed=3)
    assert frame.columns[:4] == ["id", "industry", "size", "employees"]
    share = frame.select(pl.col("revenue").is_null().mean()).item()
    assert 0.05 < share < 0.15
    assert frame.schema["tags"] == pl.List(pl.String) and frame.schema["registration_date"] == pl.Date
    clause_list = bench.ClauseGenerator(3).clauses(120)
    pairs = assert_same(clause_list, frame, bench.ON)
    assert 0.02 < len(pairs) / (frame.height * len(clause_list)) < 0.15  # a few % of the clauses, not most


def test_bench_policy_match_reports_the_figures_and_the_targets(capsys):
    from django.core.management import call_command

    try:
        call_command("bench", "policy-match", "--enterprises", "3000", "--clauses", "40", "--sample", "20")
    except SystemExit as e:  # a FAIL line exits 1; at this size the batch's fixed costs dominate
        assert e.code == 1
    out = capsys.readouterr().out
    for text in ("3,000 enterprises × 40 clauses", "batch:", "pairs", "scalar:", "ratio", "explain:", "memory:",
                 "full batch under 60 s", "faster per enterprise", "with explanations under 20 ms"):
        assert text in out, text
    assert sum(line.startswith(("PASS ", "FAIL ")) for line in out.splitlines()) == 3
