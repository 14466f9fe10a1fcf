"""The front desk's Word documents, built from what a `DeskNotice` recorded when it was issued (so a second
download is the same document):

- 一次性告知书 (one-time notice, seed 003 line 521: "口头告知+书面告知", "一口清、一单清"): the item, the visitor, every
  missing material in one table (name, requirements, copies, source), the clerk, the date and where to come back;
- 收件通知书 (receipt): the tracking number, the item, what was received, the materials promised under 容缺受理 with
  their due date, the clerk, the date, and how to look the application up.

Official Chinese documents: their labels are Chinese whatever the interface language.
"""

from __future__ import annotations

import datetime
import io

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH

from qifu.appeals.documents import _cn_date, _font, _write, titled_document

from .models import DeskNotice


def _line(doc, text: str, bold: bool = False, right: bool = False) -> None:
    paragraph = doc.add_paragraph()
    if right:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _font(paragraph.add_run(text), bold=bold)


def _save(doc) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _day(value: str) -> str:
    return _cn_date(datetime.date.fromisoformat(value)) if value else ""


def one_time_notice(notice: DeskNotice) -> bytes:
    c = notice.content
    doc = titled_document("一次性告知书")
    who = c.get("enterprise") or c.get("visitor", "")
    _line(doc, f"{who}{'（' + c['visitor'] + '）' if c.get('enterprise') else ''}：")
    item = f"“{c['item']}”" if c.get("item") else "您申请的事项"
    _line(doc, f"　　您申请办理的{item}，经审查，申请材料尚缺以下 {len(c['materials'])} 项。现一次性告知如下，"
               f"请补齐后到{c.get('return_to', '')}办理：")
    table = doc.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, label in zip(table.rows[0].cells, ("序号", "材料名称", "要求", "份数", "来源")):
        _write(cell, label, bold=True)
    for i, m in enumerate(c["materials"], start=1):
        cells = table.add_row().cells
        values = (str(i), m["name"] + ("" if m.get("mandatory", True) else "（非必需）"), m.get("requirements") or "",
                  "" if m.get("copies") is None else str(m["copies"]), m.get("source") or "")
        for cell, value in zip(cells, values):
            _write(cell, value)
    _line(doc, "　　以上材料为本事项所缺的全部材料，材料齐全后窗口即予受理，不再要求补充本告知书以外的材料。")
    clerk = c.get("clerk", {})
    _line(doc, f"经办人：{clerk.get('name', '')}　　联系电话：{clerk.get('phone', '')}")
    _line(doc, f"告知日期：{_day(c.get('date', ''))}", right=True)
    return _save(doc)


def receipt(notice: DeskNotice) -> bytes:
    c = notice.content
    doc = titled_document("收件通知书")
    _line(doc, f"收件编号：{c['number']}", bold=True)
    who = c.get("enterprise") or c.get("visitor", "")
    _line(doc, f"{who}：")
    item = f"“{c['item']}”" if c.get("item") else "申请"
    _line(doc, f"　　您提交的{item}材料已于{_day(c.get('date', ''))}在{c.get('place', '')}收件。"
               + (f"办理时限：{c['time_limit']}。" if c.get("time_limit") else ""))
    if c.get("deferred"):
        _line(doc, f"　　本件为容缺受理。请于{_day(c.get('due_on', ''))}前补交以下材料：")
        for i, name in enumerate(c["deferred"], start=1):
            _line(doc, f"　　{i}. {name}")
    _line(doc, "　　可凭收件编号及手机号码后四位在本平台“办件查询”（/track/）页面查询办理状态。")
    clerk = c.get("clerk", {})
    _line(doc, f"经办人：{clerk.get('name', '')}　　联系电话：{clerk.get('phone', '')}")
    _line(doc, f"收件日期：{_day(c.get('date', ''))}", right=True)
    return _save(doc)


def build(notice: DeskNotice) -> bytes:
    return one_time_notice(notice) if notice.kind == DeskNotice.Kind.ONE_TIME else receipt(notice)


def filename(notice: DeskNotice) -> tuple[str, str]:
    """(ASCII name, Chinese name) of the download."""
    if notice.kind == DeskNotice.Kind.ONE_TIME:
        return f"one-time-notice-{notice.pk}.docx", f"一次性告知书-{notice.visit.visitor_name}-{notice.pk}.docx"
    number = notice.content.get("number", notice.pk)
    return f"receipt-{number}.docx", f"收件通知书-{number}.docx"
