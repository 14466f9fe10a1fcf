"""Supervision in the demo region: the timers fired up to now, the task force's follow-ups of its chases and
inspections, supervision slips on the slowest cases (one answered by the lead unit), and leader instructions."""

import datetime

from django.utils import timezone

from qifu.accounts.models import Role, User
from qifu.appeals.models import CLOCK_STATUSES, Appeal, Level
from qifu.supervision import records, timers
from qifu.supervision.models import Kind, LeaderInstruction, Record, Slip

FOLLOW_UPS = {
    Kind.CHASE: ["已电话催办，主办部门表示当日回复企业。", "已电话并在线催办，部门正在协调，承诺两日内办结。"],
    Kind.INSPECTION: ["督查考评组电话了解：需协办部门出具意见，已督促加快。", "督查考评组前往主办部门了解情况，已明确办结时限。"],
}
SLIPS = [
    ("请主办单位加快办理并于答复期限前书面报告办理进展。", "逐项说明办理进展、存在困难和下一步措施，按期答复企业。"),
    ("该问题超期未办结，请主办单位会同协办单位专题研究。", "明确责任人和办结时间，办理结果及时反馈企业并报专班。"),
    ("请限期办结并报送办理情况。", "对照企业诉求逐条答复，确有困难的说明原因和计划。"),
]
ANSWER = "已会同协办单位现场办公，问题已明确解决路径，预计本周内办结，已向企业说明。"
INSTRUCTIONS = ["请专班牵头，相关部门全力配合，尽快帮助企业解决。", "此事关系企业扩产落地，请主办部门本周内拿出解决方案。"]


def load(region) -> dict:
    if Slip.objects.filter(appeal__region=region).exists():
        return {}
    now = timezone.now()
    report = timers.sweep(now)
    people = {u.username: u for u in User.objects.filter(username__in=["supervisor", "leader", "principal"])}
    supervisor, leader = people.get("supervisor"), people.get("leader")
    if supervisor is None:
        return {"fired": len(report.fired)}
    # The task force has followed up its chases and inspections of earlier days; today's are still to do.
    today = timezone.localdate()
    for n, record in enumerate(Record.objects.filter(appeal__region=region, kind__in=(Kind.CHASE, Kind.INSPECTION),
                                                     done_at__isnull=True).order_by("at", "id")):
        if timezone.localtime(record.at).date() < today and n % 4 != 3:
            Record.objects.filter(pk=record.pk).update(
                done_at=min(record.at + datetime.timedelta(hours=2), now), done_by=supervisor,
                done_note=FOLLOW_UPS[record.kind][n % 2])
    # Slips on the slowest cases still being handled; the lead unit of the first has answered.
    slow = list(Appeal.objects.filter(region=region, status__in=CLOCK_STATUSES, due_at__lt=now,
                                      lead_department__isnull=False).order_by("due_at", "pk")[:len(SLIPS)])
    slips = []
    for appeal, (task, requirements) in zip(slow, SLIPS):
        issued = max(appeal.due_at + datetime.timedelta(days=1), now - datetime.timedelta(days=3))
        slips.append(records.issue_slip(appeal.pk, supervisor, task=task, requirements=requirements,
                                        contact_name="专班办公室（演示）", contact_phone="0571-00000000",
                                        cc="区委办、区政府办", at=min(issued, now)))
    if slips:
        slip = slips[0]
        handler = User.objects.filter(department=slip.lead_department, role_grants__role=Role.HANDLER,
                                      is_active=True).order_by("pk").first()
        if handler is not None:
            records.answer_slip(slip.pk, handler, ANSWER)
    # The leader in charge has instructed on a case at the weekly meeting's level and on one of the slowest.
    if leader is not None:
        instructed = [a for a in (Appeal.objects.filter(region=region, escalation_level=Level.MEETING).first(),
                                  slow[-1] if slow else None) if a is not None]
        for appeal, text in zip(instructed, INSTRUCTIONS):
            records.instruct(appeal.pk, leader, text)
    return {"fired": len(report.fired), "slips": len(slips),
            "instructions": LeaderInstruction.objects.filter(appeal__region=region).count()}
