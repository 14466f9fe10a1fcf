"""The assignment slip (交办单) as a Word document, laid out as the seed's form: a title and a
4-column table (编号/日期, 任务名称, 交办事项, 办理要求, 抄送, 联系人/电话, 分管领导/主要领导).

The form is an official Chinese document, so its labels are Chinese whatever the interface language.
"""

from __future__ import annotations

import datetime
import io
import zoneinfo

from django.utils import timezone
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import _Cell

from .models import Appeal, Category

FONT = "SimSun"  # 宋体
CLASS_LABELS = {Category.SIMPLE: "简单问题", Category.SINGLE: "单一部门问题", Category.WHISTLE: "多部门吹哨问题"}
# The table, row by row: a pair of labels fills 4 columns, a single label spans its value over 3.
LAYOUT = (("编号", "日期"), ("任务名称",), ("交办事项",), ("办理要求",), ("抄送",), ("联系人", "电话"),
          ("分管领导", "主要领导"))


def _cn_date(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _font(run, size: float = 12, bold: bool = False) -> None:
    run.font.name = FONT
    run.font.size = Pt(size)
    run.font.bold = bold
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)


def _write(cell: _Cell, text: str, bold: bool = False) -> None:
    paragraph = cell.paragraphs[0]
    _font(paragraph.add_run(text), bold=bold)


def slip_fields(appeal: Appeal, user) -> dict[str, str]:
    """The values of the form, by its Chinese labels."""
    zone = zoneinfo.ZoneInfo(appeal.region.rule("time_zone"))
    assigned = appeal.events.filter(action__in=("assign", "reassign")).order_by("-seq").first()
    day = timezone.localtime(assigned.at, zone).date() if assigned else timezone.localdate(timezone=zone)
    lead = appeal.lead_department.name if appeal.lead_department else ""
    assisting = "、".join(d.name for d in appeal.assisting_departments.order_by("name"))
    due = _cn_date(timezone.localtime(appeal.due_at, zone).date()) if appeal.due_at else ""
    days = appeal.region.rules["appeal_deadlines"].get(appeal.category) if appeal.category else None
    requirement = f"请{lead}牵头，" + (f"{assisting}协办，" if assisting else "") + f"于{due}前办结并反馈"
    if appeal.category:
        requirement += f"（{CLASS_LABELS.get(appeal.category, appeal.category)}，{days}个工作日）"
    ent = appeal.enterprise
    return {
        "编号": appeal.number,
        "日期": _cn_date(day),
        "任务名称": appeal.title,
        "交办事项": f"{ent.name}（统一社会信用代码：{ent.uscc}）：{appeal.description}",
        "办理要求": requirement,
        "抄送": assisting,
        "联系人": getattr(user, "display_name", "") or user.get_username(),
        "电话": getattr(user, "phone", "") or "",
        "分管领导": "",
        "主要领导": "",
    }


def assignment_slip(appeal: Appeal, user) -> bytes:
    """The slip for `appeal`, issued by `user` (the dispatcher: contact person and phone)."""
    fields = slip_fields(appeal, user)
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)

    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(title.add_run(f"{appeal.region.name}企业服务工作专班交办单"), size=18, bold=True)

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
    table.rows[-1].height = Cm(3)  # room for the leaders' signatures
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
