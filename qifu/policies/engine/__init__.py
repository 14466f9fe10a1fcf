"""The policy calculator's engine: clauses are data, one engine evaluates them.

- `expr`: a small safe expression language (parsed with `ast`, never `eval`), three-valued.
- `conditions`: condition trees (`all`/`any`/`not` over leaves) with Kleene logic and explanations.
- `clauses`: a clause = conditions + benefit formula + effective dates; evaluate one enterprise.
- `yamlio`: the YAML form of policies and of test cases (`qifu policy check`).
- `batch`: the same rules compiled to Polars expressions, evaluated over whole populations.

Nothing here touches the database: the engine works on plain dicts of enterprise facts.
"""

from .values import UNKNOWN, Unknown  # noqa: F401
