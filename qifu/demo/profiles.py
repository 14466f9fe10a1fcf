"""Demo profile data: realistic, made-up departmental data for every demo enterprise.

Values depend only on the enterprise's credit code, industry and size, so loading twice changes
nothing. Some values are left unknown on purpose (departments do not cover everyone). Then the tag
rules run.
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.utils import timezone

from qifu.enterprises.models import Enterprise
from qifu.org.models import Region
from qifu.profiles.models import Indicator
from qifu.profiles.services import NewValue, apply_tag_rules, write_values

LAST_YEAR = datetime.date(2025, 12, 31)  # annual tax and registration data
YEAR_BEFORE = datetime.date(2024, 12, 31)
HEADCOUNT = datetime.date(2026, 6, 30)  # social insurance headcount, half-yearly
EMPLOYEES = {"micro": (3, 20), "small": (20, 100), "medium": (100, 500), "large": (500, 2500)}
TECH = ("C27", "C39", "C38", "C35", "C36", "I65", "I64", "M73", "M75", "C26")
BLANK = 0.12  # share of values a department has not delivered


def _money(x: float) -> Decimal:
    return Decimal(int(round(x, -3)))


def _values(enterprise: Enterprise) -> dict[str, list[tuple[datetime.date, object]]]:
    rng = random.Random(f"profile-{enterprise.uscc}")
    industry = enterprise.industry or ""
    tech = industry.startswith(TECH)
    low, high = EMPLOYEES.get(enterprise.size or "small", (5, 60))
    employees = rng.randint(low, high)
    per_head = rng.uniform(300_000, 900_000) * (1.6 if industry.startswith("C") else 1.0)
    revenue = employees * per_head
    growth = rng.gauss(8, 15)
    revenue_before = revenue / (1 + growth / 100)
    rd_ratio = rng.uniform(3, 12) if tech else rng.choice([0, 0, rng.uniform(0.2, 2.5)])
    invention = rng.randint(0, max(1, employees // 40)) if tech else rng.choice([0, 0, 0, 1])
    risky = rng.random() < 0.12
    years = max(1, (LAST_YEAR - (enterprise.registration_date or YEAR_BEFORE)).days // 365)
    values: dict[str, list[tuple[datetime.date, object]]] = {
        "registered_capital": [(LAST_YEAR, Decimal(rng.choice([50, 100, 200, 500, 1000, 3000, 5000, 10000])))],
        "employees": [(YEAR_BEFORE, Decimal(max(1, round(employees / (1 + rng.gauss(5, 10) / 100))))),
                      (HEADCOUNT, Decimal(employees))],
        "employee_growth": [(HEADCOUNT, Decimal(str(round(rng.gauss(5, 10), 1))))],
        "revenue": [(YEAR_BEFORE, _money(revenue_before)), (LAST_YEAR, _money(revenue))],
        "revenue_growth": [(LAST_YEAR, Decimal(str(round(growth, 1))))],
        "tax_paid": [(YEAR_BEFORE, _money(revenue_before * rng.uniform(0.02, 0.07))),
                     (LAST_YEAR, _money(revenue * rng.uniform(0.02, 0.07)))],
        "rd_expense": [(LAST_YEAR, _money(revenue * rd_ratio / 100))],
        "rd_ratio": [(LAST_YEAR, Decimal(str(round(rd_ratio, 2))))],
        "patents": [(LAST_YEAR, Decimal(invention + rng.randint(0, 3 + years)))],
        "invention_patents": [(LAST_YEAR, Decimal(invention))],
        "high_tech_enterprise": [(LAST_YEAR, tech and rd_ratio >= 4 and invention >= 1)],
        "debt_ratio": [(LAST_YEAR, Decimal(str(round(rng.uniform(15, 85), 1))))],
        "vat_credit_balance": [(LAST_YEAR, _money(rng.choice([0, 0, revenue * rng.uniform(0.001, 0.03)])))],
        "equity_pledges": [(LAST_YEAR, Decimal(rng.choice([0, 0, 0, 0, 1, 2])))],
        "tax_credit_rating": [(LAST_YEAR, "C" if risky else rng.choice("AAABBM"))],
        "tax_arrears": [(LAST_YEAR, _money(rng.uniform(20_000, 300_000)) if risky else Decimal(0))],
        "abnormal_operation": [(LAST_YEAR, risky and rng.random() < 0.4)],
        "social_insurance_arrears": [(HEADCOUNT, Decimal(rng.randint(1, 5) if risky else 0))],
        "administrative_penalties": [(LAST_YEAR, Decimal(rng.choice([0, 0, 0, 0, 1, 2 if risky else 0])))],
        "lawsuits_defendant": [(LAST_YEAR, Decimal(rng.choice([0, 0, 0, 1, 2, 4 if risky else 0])))],
        "enforcement_cases": [(LAST_YEAR, Decimal(rng.randint(1, 3) if risky and rng.random() < 0.5 else 0))],
        "dishonest_debtor": [(LAST_YEAR, risky and rng.random() < 0.2)],
    }
    if tech and invention >= 3 and rng.random() < 0.4:
        values["srdi_level"] = [(LAST_YEAR, rng.choice(["市级", "市级", "省级", "国家级"]))]
    return values


def load(region: Region) -> int:
    """Give the region's enterprises their profile data; returns the number of values written."""
    indicators = {i.code: i for i in Indicator.objects.filter(region=region)}
    if not indicators:
        return 0
    today = timezone.localdate()
    items: list[NewValue] = []
    enterprises = list(Enterprise.objects.filter(region=region).order_by("id"))
    for index, enterprise in enumerate(enterprises):
        rng = random.Random(f"blanks-{enterprise.uscc}")
        no_data = index % 40 == 39  # a few enterprises no department has data on yet
        for code, history in _values(enterprise).items():
            indicator = indicators.get(code)
            if indicator is None or no_data or (index > 0 and rng.random() < BLANK):
                continue
            for as_of, value in history:
                if as_of <= today:
                    items.append(NewValue(enterprise.pk, indicator, value, as_of, indicator.source))
    result = write_values(items, note="演示数据", apply_rules=False)
    apply_tag_rules(Enterprise.objects.filter(region=region))
    return result.created + result.updated
