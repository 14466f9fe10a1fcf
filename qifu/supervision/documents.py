"""The supervision slip (督办单) as a Word document, laid out as the seed's form (seed 003 lines 1384–1392): the
title "<the task force's name>督办单", then a 4-column table — 督办编号/督办日期, 督办任务, 主办单位/协办单位, 办理要求,
答复期限, 抄送, 联系人/电话, 备注.

Like the assignment slip, an official Chinese document: its labels are Chinese whatever the interface language.
"""

from __future__ import annotations

from qifu.appeals.documents import _cn_date, form_document
from qifu.org.models import Body

from .models import Slip

LAYOUT = (("督办编号", "督办日期"), ("督办任务",), ("主办单位", "协办单位"), ("办理要求",), ("答复期限",), ("抄送",),
          ("联系人", "电话"), ("备注",))


def task_force_name(region) -> str:
    body = Body.objects.filter(region=region, kind=Body.Kind.TASK_FORCE).order_by("pk").first()
    return body.name if body else f"{region.name}企业服务工作专班"


def slip_fields(slip: Slip) -> dict[str, str]:
    appeal = slip.appeal
    return {
        "督办编号": slip.number,
        "督办日期": _cn_date(slip.issued_on),
        "督办任务": f"{slip.task}（诉求编号：{appeal.number}，{appeal.enterprise.name}：{appeal.title}）",
        "主办单位": slip.lead_department.name if slip.lead_department_id else "",
        "协办单位": "、".join(d.name for d in slip.assisting_departments.order_by("name")),
        "办理要求": slip.requirements,
        "答复期限": f"请于{_cn_date(slip.reply_due)}前书面答复",
        "抄送": slip.cc,
        "联系人": slip.contact_name,
        "电话": slip.contact_phone,
        "备注": slip.remarks,
    }


def slip_document(slip: Slip) -> bytes:
    return form_document(f"{task_force_name(slip.appeal.region)}督办单", LAYOUT, slip_fields(slip),
                         tall_row=LAYOUT.index(("办理要求",)))  # room to write the requirements
