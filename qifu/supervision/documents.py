"""The supervision slip (督办单) as a Word document, laid out as the seed's form (seed 003 lines 1384–1392): the
title "<the task force's name>督办单", then a 4-column table — 督办编号/督办日期, 督办任务, 主办单位/协办单位, 办理要求,
答复期限, 抄送, 联系人/电话, 备注.

Like the assignment slip, an official Chinese document: its labels are Chinese whatever the interface language.
"""

from __future__ import annotations

import io

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm

from qifu.appeals.documents import FONT, _cn_date, _font, _write
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
    fields = slip_fields(slip)
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(title.add_run(f"{task_force_name(slip.appeal.region)}督办单"), size=18, bold=True)

    table = doc.add_table(rows=len(LAYOUT), cols=4)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for row, labels in zip(table.rows, LAYOUT):
        cells = row.cells
        if len(labels) == 1:
            value_cell = cells[1].merge(cells[3])
            _write(cells[0], labels[0], bold=True)
            _write(value_cell, fields[labels[0]])
        else:
            for i, label in enumerate(labels):
                _write(cells[2 * i], label, bold=True)
                _write(cells[2 * i + 1], fields[label])
    table.rows[3].height = Cm(3)  # 办理要求: room to write
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
