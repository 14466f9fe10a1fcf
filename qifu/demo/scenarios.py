"""Demo agency cases (全程代办): two cases in progress on the qiantang scenarios the preset loads (seed 003 附件6/附件7,
`qifu/scenarios/presets/qiantang.yaml`) — the demo enterprise's 工业项目开工 with its agent `frontdesk` (a few items
done or started, one dropped for this enterprise, one added), and another enterprise's case the front desk started
for it. Fictional. Idempotent: an enterprise that already has a case of the scenario is left alone; nothing is made
when the region has no scenarios."""

from qifu.accounts.models import User
from qifu.scenarios import cases
from qifu.scenarios.models import AgencyCase, Scenario

WANTED = ["industrial-project-start", "market-entry"]


def load(region) -> int:
    scenarios = list(Scenario.objects.filter(region=region).order_by("sort_order", "code"))
    if not scenarios:
        return 0
    by_code = {s.code: s for s in scenarios}
    chosen = [by_code.get(code) for code in WANTED]
    chosen = [s for s in chosen if s is not None] or scenarios[:2]
    desk = User.objects.filter(username="frontdesk").first()
    owner = User.objects.filter(username="enterprise").first()
    if desk is None or owner is None or owner.enterprise is None:
        return 0
    other = (region.enterprises.exclude(pk=owner.enterprise_id).order_by("uscc").first())
    made = 0
    for scenario, enterprise, by in ((chosen[0], owner.enterprise, owner),
                                     (chosen[-1] if len(chosen) > 1 else chosen[0], other, desk)):
        if enterprise is None or AgencyCase.objects.filter(scenario=scenario, enterprise=enterprise).exists():
            continue
        case = cases.start(scenario, enterprise, by=by, agent=desk)
        items = list(case.items.order_by("order"))
        for item in items[:2]:
            cases.set_status(item, "done", by=desk)
        if len(items) > 2:
            cases.set_status(items[2], "in_progress", by=desk)
        if len(items) > 4:
            cases.drop(items[-1], "企业已自行委托中介机构办理（演示）", by=desk)
        if by is owner:
            cases.add(case, "项目现场踏勘预约（演示）", scenario.stages[0], by=desk, days=3)
        made += 1
    return made
