"""Why a clause applies to an enterprise or not: its conditions, the enterprise's values and the results.

Below both the services (matching, payouts) and the application state machine, which estimates the
amount to grant from it.
"""

from __future__ import annotations

from django.utils import timezone

from qifu.enterprises.models import Enterprise
from qifu.profiles import facts as profile_facts
from qifu.rules import clauses as cl
from qifu.rules.values import as_date

from . import wording
from .models import PolicyClause


def explain(uscc: str, clause_code: str, date=None) -> list[str]:
    """Each condition of the clause with the enterprise's value and its result (`qifu policy explain`)."""
    enterprise = Enterprise.objects.filter(uscc=(uscc or "").strip().upper()).first()
    if enterprise is None:
        raise LookupError(f"no enterprise with the credit code {uscc}")
    clause = PolicyClause.objects.select_related("policy").filter(code=clause_code).first()
    if clause is None:
        raise LookupError(f"no clause with the code {clause_code}")
    on = as_date(date) if date else timezone.localdate()
    facts = profile_facts.enterprise_facts(enterprise, on=on)
    return [f"{enterprise.name} ({enterprise.uscc}) on {on}", *cl.explain(clause.spec(), facts, on)]


def explain_for(clause: PolicyClause, enterprise: Enterprise, on=None) -> wording.Explained:
    on = on or timezone.localdate()
    return wording.explain(clause.spec(), profile_facts.enterprise_facts(enterprise, on=on), on, enterprise.region)
