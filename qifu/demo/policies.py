"""Demo policy library: load qifu/demo/policies.yaml, publish it, match every enterprise, and leave a few
payouts (免申即享, some paid) and applications in every state. Loading twice changes nothing."""

from __future__ import annotations

import datetime
from pathlib import Path

from django.core.files.base import ContentFile
from django.utils import timezone

from qifu.accounts.models import User
from qifu.enterprises.models import Enterprise
from qifu.org.models import Region
from qifu.policies import applications, matches, services
from qifu.policies.models import Application, Payout, Policy, PolicyClause, PolicyStatus

FILE = Path(__file__).with_name("policies.yaml")


def _reviewer(region: Region, clause: PolicyClause):
    """Somebody the workflow allows to review: the demo handler when it is their department, else the admin."""
    handler = User.objects.filter(username="handler").first()
    if handler and handler.department_id and handler.department_id == clause.policy.department_id:
        return handler
    return User.objects.filter(username="admin").first()


def _payouts(region: Region, demo_enterprise: Enterprise | None) -> int:
    if Payout.objects.filter(clause__policy__region=region).exists():
        return 0
    admin = User.objects.filter(username="admin").first()
    made = 0
    today = timezone.localdate()
    for code, take, pay in (("QT-2026-RD-1", 8, 5), ("QT-2026-PATENT-1", 6, 3), ("QT-2026-HTE-1", 4, 0)):
        clause = PolicyClause.objects.filter(code=code, policy__region=region).first()
        if clause is None:
            continue
        candidates = [m.enterprise_id for m in services.confirmable(clause) if m.amount is not None]
        chosen = candidates[:take]
        if demo_enterprise is not None and demo_enterprise.pk in candidates and demo_enterprise.pk not in chosen:
            chosen.append(demo_enterprise.pk)
        if not chosen:
            continue
        payouts = services.confirm_payouts(clause, chosen, _reviewer(region, clause) or admin)
        made += len(payouts)
        for i, payout in enumerate(payouts[:pay]):
            services.record_payment(payout, admin, paid_amount=payout.amount, paid_on=today - datetime.timedelta(days=i),
                                    reference=f"QT-GK-{today:%Y%m%d}-{payout.pk:04d}")
    return made


def _material(name: str) -> ContentFile:
    return ContentFile(f"{name}（演示材料，内容为虚构）\n".encode(), name=f"{name}.txt")


def _applications(region: Region, demo_enterprise: Enterprise | None) -> int:
    if Application.objects.filter(clause__policy__region=region).exists():
        return 0
    admin = User.objects.filter(username="admin").first()
    now = timezone.now()
    # (clause, target state, days ago submitted); the first open clause the demo enterprise may apply for
    # gets an application of its own.
    plan = [
        ("QT-2026-TALENT-1", "submitted", 1),
        ("QT-2026-JOBS-2", "under_review", 40),   # overdue: the 20 working days have passed
        ("QT-2026-RD-2", "approved", 30),
        ("QT-2026-TALENT-1", "paid", 45),
        ("QT-2026-JOBS-2", "rejected", 25),
        ("QT-2026-STARTUP-1", "under_review", 3),
    ]
    made = 0
    used: set[tuple[int, int]] = set()
    for code, target, days_ago in plan:
        clause = PolicyClause.objects.filter(code=code, policy__region=region).first()
        if clause is None:
            continue
        at = now - datetime.timedelta(days=days_ago)
        ids = matches.enterprise_ids([clause])
        amounts = matches.amounts(clause.pk, ids)
        eligible = sorted(ids, key=lambda pk: (-(amounts.get(pk) or 0), pk))
        enterprise = None
        for enterprise_id in eligible:
            if (clause.pk, enterprise_id) in used:
                continue
            candidate = Enterprise.objects.get(pk=enterprise_id)
            if not applications.check_can_apply(clause, candidate, at.date()):
                enterprise = candidate
                break
        if enterprise is None:
            continue
        used.add((clause.pk, enterprise.pk))
        applicant = enterprise.users.first()
        application = applications.submit(clause, enterprise, applicant, {m: _material(m) for m in clause.materials},
                                          note="演示申报", at=at)
        reviewer = _reviewer(region, clause) or admin
        if target in ("under_review", "approved", "rejected", "paid"):
            applications.perform(application, "start_review", reviewer, at=at + datetime.timedelta(days=1))
        if target in ("approved", "paid"):
            applications.perform(application, "approve", reviewer, at=at + datetime.timedelta(days=10),
                                 note="材料齐全，符合条件。")
        if target == "rejected":
            applications.perform(application, "reject", reviewer, at=at + datetime.timedelta(days=8),
                                 note="新增参保人员中高校毕业生人数不足，不符合条件。")
        if target == "paid":
            payout = Payout.objects.get(application=application)
            services.record_payment(payout, admin, paid_amount=payout.amount,
                                    paid_on=timezone.localdate() - datetime.timedelta(days=5),
                                    reference=f"QT-GK-APP-{application.pk:04d}")
        made += 1
    if demo_enterprise is not None:
        # Its own application: for a clause it may qualify for, sending the document the data lacks.
        for match in sorted((m for m in matches.for_enterprise(demo_enterprise) if not m.clause.no_application),
                            key=lambda m: (m.status, m.clause.code)):
            if not applications.check_can_apply(match.clause, demo_enterprise):
                applications.submit(match.clause, demo_enterprise, demo_enterprise.users.first(),
                                    {m: _material(m) for m in match.clause.materials}, note="演示申报")
                made += 1
                break
    return made


def load(region: Region) -> dict:
    counts = services.import_yaml(FILE.read_text(encoding="utf-8"), region.code)
    for policy in Policy.objects.filter(region=region, status=PolicyStatus.DRAFT):
        policy.status, policy.published_at = PolicyStatus.PUBLISHED, timezone.now() - datetime.timedelta(days=60)
        policy.save()
    summary = services.match_region(region.code)
    demo_enterprise = Enterprise.objects.filter(region=region, users__username="enterprise").first()
    payouts = _payouts(region, demo_enterprise)
    made = _applications(region, demo_enterprise)
    return {"policies": counts["policies"], "clauses": counts["clauses"], "eligible": summary.eligible,
            "payouts": payouts, "applications": made}
