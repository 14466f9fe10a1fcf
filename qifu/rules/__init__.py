"""The rules engine: rules are data, one engine evaluates them.

Policies (a clause's eligibility and benefit), profiles (tag rules, indicator scores) and later users
(data-change alerts, assessment schemes) are built on top of it; it depends on none of them.

- `expr`: a small safe expression language (parsed with `ast`, never `eval`), three-valued.
- `conditions`: condition trees (`all`/`any`/`not` over leaves) with Kleene logic and explanations.
- `clauses`: a clause = conditions + benefit formula + effective dates; evaluate one enterprise.
- `yamlio`: the YAML form of policies and of test cases (`qifu policy check`).
- `batch`: the same rules compiled to Polars expressions, evaluated over whole populations.

Nothing here touches the database or Django: the engine is pure Python (PyYAML for `yamlio`, Polars for `batch`) and works
on plain dicts of enterprise facts, or on frames of them.
"""

from .values import UNKNOWN, Unknown  # noqa: F401
