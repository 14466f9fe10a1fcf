"""The case library's input to the monthly ranking (晾晒, 典型案例报送): `cases_published`, per unit, the case studies
published in the month whose source appeal's lead unit is the unit — `services.cases_published` for every unit at
once. Registered when the app starts. The region's scheme uses it by pointing its 典型案例报送 indicator at
`cases_published` (the default scheme counts the manual input `cases`, which also covers cases reported elsewhere,
e.g. to the media)."""

from django.db.models import Count
from django.utils.translation import gettext_lazy

from qifu.assessments import providers

from .models import CaseState, CaseStudy


@providers.register({"cases_published": gettext_lazy("case studies published (case library)")})
def cases_published(month: providers.Month) -> dict[str, dict]:
    rows = (CaseStudy.objects.filter(region=month.region, state=CaseState.PUBLISHED,
                                     published_at__gte=month.period.start, published_at__lt=month.period.end)
            .exclude(source_appeal__lead_department=None)
            .values("source_appeal__lead_department").annotate(n=Count("id")))
    return {"cases_published": {row["source_appeal__lead_department"]: row["n"] for row in rows}}
