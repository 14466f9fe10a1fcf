"""The policy engine: the expression language, Kleene logic, YAML policies and `qifu policy check`."""

import datetime
import os
import subprocess
from pathlib import Path

import pytest

from qifu.rules import clauses, conditions, yamlio
from qifu.rules.expr import Context, Expression, bracket
from qifu.rules.values import UNKNOWN, RuleError, years_between

HERE = Path(__file__).parent / "policy_cases"
QIFU = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "qifu"
D = datetime.date


def ev(source, on=D(2026, 6, 1), **facts):
    return Expression(source).evaluate(Context(facts=facts, on=on))


class TestExpressions:
    def test_arithmetic_and_functions(self):
        assert ev("min(rd_expense * 0.1, 1000000)", rd_expense=2_000_000) == 200_000
        assert ev("max(1, 2, x)", x=5) == 5
        assert ev("round(2.5)") == 3 and ev("round(-2.5)") == -3  # 四舍五入, not banker's rounding
        assert ev("round(1234.5678, 2)") == 1234.57
        assert ev("floor(2.7) + ceil(2.1) + abs(-4)") == 9
        assert ev("7 // 2 + 7 % 2") == 4

    def test_unknown_flows_through(self):
        assert ev("rd_expense * 0.1") is UNKNOWN
        assert ev("min(x, 5)") is UNKNOWN
        assert ev("x > 1") is UNKNOWN

    def test_kleene_and_or_not(self):
        assert ev("x > 1 and 1 > 2") is False
        assert ev("x > 1 and 2 > 1") is UNKNOWN
        assert ev("x > 1 or 2 > 1") is True
        assert ev("x > 1 or 1 > 2") is UNKNOWN
        assert ev("not x > 1") is UNKNOWN
        assert ev("not 1 > 2") is True

    def test_bracket_takes_the_highest_threshold_reached(self):
        table = [(10.0, 1.0), (50.0, 2.0), (100.0, 3.0)]
        assert bracket(9.99, table) == 0
        assert bracket(10, table) == 1 and bracket(50, table) == 2 and bracket(1e9, table) == 3
        assert ev("bracket(revenue, [[100, 3], [10, 1], [50, 2]])", revenue=60) == 2

    def test_years_since_is_exact_on_anniversaries(self):
        assert ev("years_since(d)", on=D(2026, 3, 1), d=D(2023, 3, 1)) == 3
        assert ev("years_since(d)", on=D(2026, 2, 28), d=D(2023, 3, 1)) < 3
        assert years_between(D(2024, 2, 29), D(2025, 2, 28)) == 1
        assert ev("years_since(d)", d="2020-01-01", on=D(2021, 7, 2)) == pytest.approx(1.5, abs=0.01)

    def test_comparisons_of_dates_and_lists(self):
        assert ev("d < '2020-01-01'", d=D(2019, 5, 1)) is True
        assert ev("size in ['small', 'micro']", size="micro") is True
        assert ev("size not in ['small', 'micro']", size="micro") is False
        assert ev("1 < x <= 3", x=3) is True

    @pytest.mark.parametrize("source", [
        "__import__('os').system('id')", "x.__class__", "(lambda: 1)()", "[c for c in 'ab']", "x[0]",
        "2 ** 1000000", "open('/etc/passwd')", "exec('1')", "x if", "min", "f(1)", "round(1, ndigits=2)",
    ])
    def test_anything_outside_the_language_is_refused_when_saved(self, source):
        with pytest.raises(RuleError):
            Expression(source)

    def test_division_by_zero_is_a_rule_error_not_a_crash(self):
        with pytest.raises(RuleError):
            ev("1 / x", x=0)


class TestConditions:
    def leaf(self, op, value, **facts):
        node = conditions.parse({"field": "v", "op": op, "value": value})
        return conditions.evaluate(node, facts, D(2026, 6, 1))[0]

    @pytest.mark.parametrize("op,value,actual,expected", [
        ("==", 5, 5, True), ("!=", 5, 5, False), ("<", 5, 4, True), ("<=", 5, 5, True), (">", 5, 5, False),
        (">=", 5, 5, True), ("in", ["a", "b"], "b", True), ("not_in", ["a", "b"], "c", True),
        ("between", [1, 3], 1, True), ("between", [1, 3], 3, True), ("between", [1, 3], 3.01, False),
        ("prefix", "C27", "C2710", True), ("prefix", "C27", "C3510", False),
        ("between", ["2020-01-01", "2020-12-31"], D(2020, 12, 31), True),
    ])
    def test_every_operator(self, op, value, actual, expected):
        assert self.leaf(op, value, v=actual) is expected

    def test_a_missing_field_is_unknown_not_false(self):
        assert self.leaf(">=", 1, other=1) is UNKNOWN

    def test_missing_fields_are_listed_only_where_they_matter(self):
        node = conditions.parse({"all": [{"field": "a", "op": ">", "value": 1},
                                         {"any": [{"has_tag": "x"}, {"field": "b", "op": ">", "value": 1}]}]})
        assert conditions.evaluate(node, {"a": 2, "tags": []}, D(2026, 1, 1)) == (UNKNOWN, {"b"})
        assert conditions.evaluate(node, {"a": 2, "tags": ["x"]}, D(2026, 1, 1)) == (True, set())
        assert conditions.evaluate(node, {"a": 0, "tags": []}, D(2026, 1, 1)) == (False, set())

    @pytest.mark.parametrize("data,message", [
        ({"field": "x", "op": "~", "value": 1}, "未知运算符"),  # messages in the user's language (Chinese)
        ({"field": "x", "op": "between", "value": 1}, "between 需要"),
        ({"all": []}, "非空"),
        ({"any": [{"field": "x"}]}, r"^条件\.any\[0\]：应为"),
        ({"expr": "x.y"}, "不允许使用 x.y"),
    ])
    def test_mistakes_name_their_place(self, data, message):
        with pytest.raises(RuleError, match=message):
            conditions.parse(data)


class TestYaml:
    def test_round_trip_gives_the_same_answers(self):
        policies = yamlio.parse_policies(HERE / "policies.yaml")
        again = yamlio.parse_policies(yamlio.dump_policies(policies))
        cases = yamlio.parse_cases(HERE / "cases.yaml")
        assert yamlio.check(again, cases) == yamlio.check(policies, cases)
        assert yamlio.check(policies, cases)[1] == 0

    def test_a_clause_not_in_force_is_false(self):
        clause = yamlio.parse_policies(HERE / "policies.yaml")[0].clauses[1]
        outcome = clauses.evaluate(clause, {"rd_expense": 1}, D(2026, 6, 30))
        assert outcome.eligible is False and not outcome.in_force

    def test_unknown_keys_and_duplicate_codes_are_refused(self):
        with pytest.raises(RuleError, match="未知的键"):
            yamlio.parse_policies("policies: [{code: a, title: b, level: district, colour: red}]")
        with pytest.raises(RuleError, match="重复"):
            yamlio.parse_policies("policies: [{code: a, title: b, level: district, clauses: "
                                  "[{code: c, title: x}, {code: c, title: y}]}]")

    def test_a_string_is_yaml_text_never_a_file_name(self):
        # A file's path given as text (e.g. by a user) is parsed as YAML, not read from the server's disk.
        with pytest.raises(RuleError, match="policies"):
            yamlio.parse_policies(str(HERE / "policies.yaml"))
        assert yamlio.parse_policies((HERE / "policies.yaml").open(encoding="utf-8"))

    def test_explain_shows_each_condition_with_its_value(self):
        clause = yamlio.parse_policies(HERE / "policies.yaml")[0].clauses[0]
        text = "\n".join(clauses.explain(clause, {"rd_expense": 2e6, "industry": "C2710", "tags": []}, D(2026, 6, 1)))
        assert "rd_expense >= 1000000 = 2000000.0 → true" in text
        assert "employees < 300 = (no data) → unknown" in text
        assert "result: unknown; missing: employees" in text


def run_check(*files):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env["QIFU_DATA_DIR"] = "/nonexistent-qifu-data-dir-for-check"
    return subprocess.run([str(QIFU), "policy", "check", *map(str, files)], capture_output=True, text=True,
                          env=env, timeout=120)


def test_policy_check_passes_the_cases_without_a_database():
    result = run_check(HERE / "policies.yaml", HERE / "cases.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("PASS ") and lines[-1] == "11 passed, 0 failed"


def test_policy_check_prints_the_difference_and_fails(tmp_path):
    cases = tmp_path / "wrong.yaml"
    cases.write_text("cases:\n  - name: 写错的期望\n    date: 2026-06-01\n"
                     "    enterprise: {rd_expense: 3000000, industry: C2710, tags: [专精特新]}\n"
                     "    expect: {T-RD-1: {eligible: true, amount: 123}, T-OPS-LE: true}\n", encoding="utf-8")
    result = run_check(HERE / "policies.yaml", cases)
    assert result.returncode == 1
    assert "FAIL 写错的期望: T-RD-1: amount expected 123, got 300000; T-OPS-LE: eligible expected true, got unknown" \
        in result.stdout


def test_leaf_shortcuts_give_what_the_general_comparison_gives():
    """Leaves compare numbers with numbers and texts with texts at once; every pairing of types must
    give the result (or the error) of the general path."""
    import itertools

    values = [0, 1, 2.5, -3, 10**20, float("nan"), True, False, "a", "abc", "10", "2.5", "",
              datetime.date(2024, 1, 1), "2024-01-01", None]
    leaves = [(op, v) for op in ("==", "!=", "<", "<=", ">", ">=") for v in values if v is not None]
    for items in (["a", "abc"], ["10", "x"], [1, "a"], [], ["2024-01-01"]):
        leaves += [("in", items), ("not_in", items)]
    leaves += [("between", b) for b in ([0, 10], [1.5, 2.5], [0, "5"], [-1e30, 1e30])]
    leaves += [("prefix", p) for p in ("a", ["ab", "1"], [1, "C"], "")]

    def run(leaf, actual):
        try:
            ctx = Context(facts={"f": actual}, on=datetime.date(2025, 1, 1))
            return "ok", leaf.assess(ctx), leaf._value(ctx), ctx.missing
        except (RuleError, TypeError) as e:
            return type(e).__name__, str(e)

    for (op, value), actual in itertools.product(leaves, values):
        leaf = conditions.Leaf("f", op, value)
        fast = run(leaf, actual)
        leaf._fast = None
        general = run(leaf, actual)
        assert repr(fast) == repr(general), (op, value, actual)
