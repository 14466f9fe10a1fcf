"""Policy performance (绩效评估): who qualifies, who applied, who got what, how fast, and where.

Figures for one policy: enterprises eligible (and that may qualify), applied, granted, paid; money approved
and paid; coverage by enterprise size, industry section and jurisdiction; the median days from the
policy's publication to payment. `workbook()` writes the same figures to Excel.
"""

from __future__ import annotations

import io
import statistics
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from qifu import replica
from qifu.enterprises.models import Enterprise
from qifu.lib import industry

from . import matches
from .models import Application, MatchStatus, Payout, PayoutStatus, Policy


@dataclass
class Segment:
    key: str  # the raw value (size code, industry section letter, jurisdiction code); "" when unknown
    label: str
    enterprises: int = 0
    eligible: int = 0
    applied: int = 0
    granted: int = 0
    paid_amount: Decimal = Decimal(0)

    @property
    def coverage(self) -> float | None:
        """Share of the eligible enterprises that were granted the benefit."""
        return round(self.granted / self.eligible, 4) if self.eligible else None

    @property
    def reach(self) -> float | None:
        """Share of the segment's enterprises that qualify."""
        return round(self.eligible / self.enterprises, 4) if self.enterprises else None


@dataclass
class ClauseFigures:
    code: str
    title: str
    no_application: bool
    eligible: int
    unknown: int
    applied: int
    granted: int
    approved_amount: Decimal
    paid_amount: Decimal


@dataclass
class Figures:
    policy: Policy
    eligible: int
    unknown: int
    applied: int
    granted: int
    paid: int
    approved_amount: Decimal
    paid_amount: Decimal
    median_days_to_payout: float | None
    clauses: list[ClauseFigures] = field(default_factory=list)
    by_size: list[Segment] = field(default_factory=list)
    by_industry: list[Segment] = field(default_factory=list)
    by_jurisdiction: list[Segment] = field(default_factory=list)

    @property
    def coverage(self) -> float | None:
        return round(self.granted / self.eligible, 4) if self.eligible else None


def _sum(qs, name) -> Decimal:
    return qs.aggregate(total=Sum(name))["total"] or Decimal(0)


def _segments(policy: Policy, key, label) -> list[Segment]:
    """Per segment of the region's enterprises: how many, eligible, applied, granted, paid."""
    eligible = matches.enterprise_ids(policy.clauses.all())
    applied = set(Application.objects.filter(clause__policy=policy).values_list("enterprise_id", flat=True))
    granted = set(Payout.objects.filter(clause__policy=policy).values_list("enterprise_id", flat=True))
    paid: dict[int, Decimal] = {}
    for enterprise_id, amount in Payout.objects.filter(clause__policy=policy, status=PayoutStatus.PAID).values_list(
            "enterprise_id", "paid_amount"):
        paid[enterprise_id] = paid.get(enterprise_id, Decimal(0)) + (amount or 0)
    segments: dict[str, Segment] = {}
    enterprises = Enterprise.objects.filter(region=policy.region).select_related("jurisdiction")
    for enterprise in enterprises.only("id", "size", "industry", "jurisdiction__code"):
        value = key(enterprise) or ""
        seg = segments.setdefault(value, Segment(value, label(value)))
        seg.enterprises += 1
        seg.eligible += enterprise.pk in eligible
        seg.applied += enterprise.pk in applied
        seg.granted += enterprise.pk in granted
        seg.paid_amount += paid.get(enterprise.pk, Decimal(0))
    return sorted(segments.values(), key=lambda s: (-s.eligible, -s.enterprises, s.label))


def _size_label(code: str) -> str:
    return str(Enterprise.Size(code).label) if code in Enterprise.Size.values else _("unknown")


@replica.statistics()  # read from the PostgreSQL replica when there is one
def figures(policy: Policy) -> Figures:
    rows = matches.clause_rows(policy.clauses.all())
    payouts = Payout.objects.filter(clause__policy=policy)
    paid = payouts.filter(status=PayoutStatus.PAID)
    applications = Application.objects.filter(clause__policy=policy)
    days = []
    if policy.published_at:
        published = timezone.localtime(policy.published_at).date()
        days = [(d - published).days for d in paid.values_list("paid_on", flat=True) if d]
    result = Figures(
        policy=policy,
        eligible=len(matches.enterprise_ids(policy.clauses.all())),
        unknown=len(matches.enterprise_ids(policy.clauses.all(), MatchStatus.UNKNOWN)),
        applied=applications.values("enterprise").distinct().count(),
        granted=payouts.values("enterprise").distinct().count(),
        paid=paid.values("enterprise").distinct().count(),
        approved_amount=_sum(payouts, "amount"),
        paid_amount=_sum(paid, "paid_amount"),
        median_days_to_payout=float(statistics.median(days)) if days else None,
    )
    for clause in policy.clauses.all():
        cm = rows.get(clause.pk)
        cp = payouts.filter(clause=clause)
        result.clauses.append(ClauseFigures(
            code=clause.code, title=clause.title, no_application=clause.no_application,
            eligible=cm.eligible if cm else 0, unknown=cm.unknown if cm else 0,
            applied=applications.filter(clause=clause).values("enterprise").distinct().count(),
            granted=cp.count(), approved_amount=_sum(cp, "amount"),
            paid_amount=_sum(cp.filter(status=PayoutStatus.PAID), "paid_amount"),
        ))
    result.by_size = _segments(policy, lambda e: e.size, _size_label)
    result.by_industry = _segments(policy, lambda e: (e.industry or "")[:1].upper(),
                                   lambda letter: industry.section_name(letter) or _("unknown"))
    names = dict(policy.region.jurisdictions.values_list("code", "name"))
    result.by_jurisdiction = _segments(policy, lambda e: e.jurisdiction.code if e.jurisdiction_id else "",
                                       lambda code: names.get(code) or _("unknown"))
    return result


# --- Excel ------------------------------------------------------------------------------------------

SUMMARY_ROWS = (
    # (label, attribute) — the order of the Summary sheet's rows 3…
    (gettext_noop("Enterprises eligible"), "eligible"),
    (gettext_noop("Enterprises that may qualify (data missing)"), "unknown"),
    (gettext_noop("Enterprises that applied"), "applied"),
    (gettext_noop("Enterprises granted"), "granted"),
    (gettext_noop("Enterprises paid"), "paid"),
    (gettext_noop("Amount approved (yuan)"), "approved_amount"),
    (gettext_noop("Amount paid (yuan)"), "paid_amount"),
    (gettext_noop("Coverage (granted / eligible)"), "coverage"),
    (gettext_noop("Median days from publication to payment"), "median_days_to_payout"),
)


def workbook(f: Figures) -> bytes:
    """Sheets (named in the user's language): Summary (label, value from row 3), Clauses, and one per
    segmentation."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("Summary")
    sheet.append([f.policy.code, f.policy.title])
    sheet.append([_("Published"), timezone.localtime(f.policy.published_at).date() if f.policy.published_at else None])
    for label, attr in SUMMARY_ROWS:
        value = getattr(f, attr)
        sheet.append([_(label), float(value) if isinstance(value, Decimal) else value])
    sheet["A1"].font = Font(bold=True)
    sheet.column_dimensions["A"].width = 40
    sheet.column_dimensions["B"].width = 24

    clauses = book.create_sheet(_("Clauses"))
    clauses.append([_("code"), _("title"), _("no application"), _("eligible"), _("may qualify"), _("applied"),
                    _("granted"), _("Amount approved (yuan)"), _("Amount paid (yuan)")])
    for c in f.clauses:
        clauses.append([c.code, c.title, c.no_application, c.eligible, c.unknown, c.applied, c.granted,
                        float(c.approved_amount), float(c.paid_amount)])
    for title, rows in ((_("By size"), f.by_size), (_("By industry"), f.by_industry),
                        (_("By jurisdiction"), f.by_jurisdiction)):
        sheet = book.create_sheet(title)
        sheet.append([_("segment"), _("enterprises"), _("eligible"), _("applied"), _("granted"),
                      _("Amount paid (yuan)"), _("Coverage (granted / eligible)")])
        for s in rows:
            sheet.append([s.label, s.enterprises, s.eligible, s.applied, s.granted, float(s.paid_amount), s.coverage])
    for ws in book.worksheets:
        for cell in ws[1]:
            cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
