"""The assignment slip (交办单) and the escalation approval form (企业问题提级协调审批表) as Word documents,
laid out as the seed's forms (seed 003 lines 1372–1382 and 1221–1235):

- 交办单: a title and a 4-column table (编号/日期, 任务名称, 交办事项, 办理要求, 抄送, 联系人/电话, 分管领导/主要领导);
- 提级协调审批表: 企业名称, 问题描述, 前期协调情况, 属地, 主办部门, 协办部门, then the opinions of the lead unit,
  the task force, the leader in charge and the secretary/district head, each with its signature line.

The forms are official Chinese documents, so their labels are Chinese whatever the interface language.
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
CLASS_LABELS = {Category.SIMPLE: "简单问题", Category.SINGLE: "单一部门问题", Category.WHISTLE: "多部门吹哨问题",
                Category.FALLBACK_ON_SPOT: "兜底办（现场办）", Category.FALLBACK_CHIEF: "兜底办（局长办）",
                Category.FALLBACK_DELIBERATION: "兜底办（研讨办）"}
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


def titled_document(title: str):
    """A new Word document in the official font with `title` centred at the top."""
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    heading = doc.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(heading.add_run(title), size=18, bold=True)
    return doc


def form_document(title: str, layout, fields: dict[str, str], tall_row: int = -1) -> bytes:
    """A one-page official form: the title centred, then a 4-column table of label/value pairs laid out as
    `layout` (a row of one label spans the three value columns); row `tall_row` is left room to write or sign."""
    doc = titled_document(title)
    table = doc.add_table(rows=len(layout), cols=4)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for row, labels in zip(table.rows, layout):
        cells = row.cells
        if len(labels) == 1:
            value_cell = cells[1].merge(cells[3])
            _write(cells[0], labels[0], bold=True)
            _write(value_cell, fields[labels[0]])
        else:
            for i, label in enumerate(labels):
                _write(cells[2 * i], label, bold=True)
                _write(cells[2 * i + 1], fields[label])
    table.rows[tall_row].height = Cm(3)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def assignment_slip(appeal: Appeal, user) -> bytes:
    """The slip for `appeal`, issued by `user` (the dispatcher: contact person and phone); the last row is left for
    the leaders' signatures."""
    return form_document(f"{appeal.region.name}企业服务工作专班交办单", LAYOUT, slip_fields(appeal, user))


# --- the escalation approval form (企业问题提级协调审批表) ------------------------------------------------------

# Opinion rows: (label, the level whose decision fills it, the signature line). Level 1 is the lead unit's request.
OPINIONS = (
    ("主办部门意见", 1, "主办部门主要领导签字：　　　　主办部门盖章　　　　年　月　日"),
    ("专班意见", 2, "专班领导签字：　　　　年　月　日"),
    ("主办部门分管区领导意见", 3, "分管区领导签字：　　　　年　月　日"),
    ("书记/区长意见", 4, "书记/区长签字：　　　　年　月　日"),
)
FORM_NOTE = "注：如问题情况较为复杂，可另行添加附件进行详细说明。"


def escalation_fields(appeal: Appeal) -> dict:
    """The form's values, from the case and its ladder events: the latest request from each level and the latest
    decision on each level (approve or refuse, with the body's note and the day)."""
    zone = zoneinfo.ZoneInfo(appeal.region.rule("time_zone"))
    events = list(appeal.events.filter(action__in=("escalate", "decide_escalation")).order_by("seq"))
    requests = [e for e in events if e.action == "escalate"]
    first = next((e for e in requests if e.data.get("from_level") == 1), requests[0] if requests else None)
    statements = []
    for e in requests:
        statements.append(("" if len(requests) == 1 else f"（第{e.data.get('from_level')}级提交）") + e.data.get("statement", ""))
    opinions: dict[int, str] = {}
    if first is not None:
        day = timezone.localtime(first.at, zone).date()
        opinions[1] = f"申请提级协调：{first.data.get('reason', '')}（{_cn_date(day)}）"
    for e in events:
        if e.action != "decide_escalation":
            continue
        level = e.data.get("level") if e.data.get("approve") else e.data.get("requested_level")
        verdict = "同意提级协调" if e.data.get("approve") else "不符合提级条件，重新交办"
        note = e.data.get("note") or ""
        day = timezone.localtime(e.at, zone).date()
        opinions[level] = f"{verdict}{'：' + note if note else ''}（{_cn_date(day)}）"
    ent = appeal.enterprise
    attachments = []
    if requests:
        ids = requests[-1].data.get("attachments") or []
        attachments = [a.name for a in appeal.attachments.filter(pk__in=ids).order_by("id")]
    return {
        "企业名称": ent.name,
        "问题描述": f"{appeal.title}：{appeal.description}",
        "前期协调情况": "\n".join(statements),
        "属地": ent.jurisdiction.name if ent.jurisdiction_id else "",
        "主办部门": appeal.lead_department.name if appeal.lead_department_id else "",
        "协办部门": "、".join(d.name for d in appeal.assisting_departments.order_by("name")),
        "opinions": opinions,
        "attachments": attachments,
    }


def escalation_form(appeal: Appeal) -> bytes:
    fields = escalation_fields(appeal)
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(title.add_run("企业问题提级协调审批表"), size=18, bold=True)
    number = doc.add_paragraph()
    number.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _font(number.add_run(f"诉求编号：{appeal.number}"), size=10)

    labels = ("企业名称", "问题描述", "前期协调情况", "属地", "主办部门", "协办部门")
    table = doc.add_table(rows=len(labels) + len(OPINIONS), cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for row, label in zip(table.rows, labels):
        _write(row.cells[0], label, bold=True)
        _write(row.cells[1], fields[label])
    for row, (label, level, signature) in zip(table.rows[len(labels):], OPINIONS):
        _write(row.cells[0], label, bold=True)
        _write(row.cells[1], fields["opinions"].get(level, ""))
        line = row.cells[1].add_paragraph()
        line.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _font(line.add_run(signature), size=10)
        row.height = Cm(2.5)
    for row in table.rows:
        row.cells[0].width = Cm(3.5)
        row.cells[1].width = Cm(12.5)
    note = doc.add_paragraph()
    _font(note.add_run(FORM_NOTE), size=10)
    if fields["attachments"]:
        listing = doc.add_paragraph()
        _font(listing.add_run("附件：" + "；".join(fields["attachments"])), size=10)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
