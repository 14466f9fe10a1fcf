"""The month's ranking as an Excel workbook (Chinese headings) and as a Word 晾晒通报 (an official Chinese document:
its wording is Chinese whatever the interface language)."""

from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from qifu.appeals.documents import FONT
from qifu.lib import exports

CN_NUMBERS = "一二三四五六七八九十"


def change_text(change) -> str:
    if change is None:
        return "—"
    return f"↑{change}" if change > 0 else (f"↓{-change}" if change < 0 else "—")


def number_text(value) -> str:
    """58.0 → "58", 66.5 → "66.5", None → "—"."""
    if value is None:
        return "—"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def month_cn(label: str) -> str:
    year, month = label.split("-")
    return f"{year}年{int(month)}月"


def indicators(data: dict) -> list[dict]:
    """Every group's indicators, each once, in the scheme's order."""
    seen: dict[str, dict] = {}
    for group in data["groups"]:
        for indicator in group["indicators"]:
            seen.setdefault(indicator["code"], indicator)
    order = [i["code"] for g in data["groups"] for i in g["indicators"]]
    return sorted(seen.values(), key=lambda i: min(n for n, c in enumerate(order) if c == i["code"]))


def workbook(data: dict, region_name: str) -> bytes:
    """One sheet: the title line, the Chinese headings, then each group's units in rank order (an indicator that
    does not apply to a group is left empty)."""
    columns = indicators(data)
    head = ["组别", "排名", "上月排名", "升降", "单位代码", "单位", "总分", *[i["name"] for i in columns]]
    lines = [[group["name"], row["rank"], row["last_rank"], change_text(row["change"]), row["key"], row["name"],
              row["total"], *[row.get(i["code"]) for i in columns]]
             for group in data["groups"] for row in group["rows"]]
    return exports.workbook("晾晒排名", head, lines, preface=[f"{region_name}{month_cn(data['month'])}晾晒排名"])


def _font(run, size: float = 10.5, bold: bool = False) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = FONT
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)


def _cell(cell, text, bold: bool = False) -> None:
    cell.text = ""
    paragraph = cell.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(paragraph.add_run("" if text is None else str(text)), size=9, bold=bold)


def report(data: dict, region_name: str, issuer: str) -> bytes:
    """晾晒通报: the title, the month, a short lead, then per group a table of the units in rank order
    (排名, 单位, 总分, the indicators' scores, 上月排名, 升降)."""
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(1.5))
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)

    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(title.add_run(f"{region_name}企业服务工作晾晒通报"), size=18, bold=True)
    sub = doc.add_paragraph()
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(sub.add_run(f"（{month_cn(data['month'])}）"), size=12)
    lead = doc.add_paragraph()
    published = data.get("published")
    status = "已发布" if published else "截至导出时的数据，尚未发布"
    _font(lead.add_run(
        f"根据企业服务督查考核机制，现将{month_cn(data['month'])}各部门、平台街道工业经济指标、企业诉求办理、"
        f"助企纾困政策落地、走访服务企业、典型案例报送等指标晾晒比拼情况通报如下（{status}）。"), size=12)
    for index, group in enumerate(data["groups"]):
        heading = doc.add_paragraph()
        number = CN_NUMBERS[index] if index < len(CN_NUMBERS) else str(index + 1)
        _font(heading.add_run(f"{number}、{group['name']}"), size=14, bold=True)
        names = ["排名", "单位", "总分", *[i["name"] for i in group["indicators"]], "上月排名", "升降"]
        table = doc.add_table(rows=1 + len(group["rows"]), cols=len(names))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for cell, name in zip(table.rows[0].cells, names):
            _cell(cell, name, bold=True)
        for line, row in zip(table.rows[1:], group["rows"]):
            values = [row["rank"], row["name"], number_text(row["total"]),
                      *[number_text(row[i["code"]]) for i in group["indicators"]],
                      number_text(row["last_rank"]), change_text(row["change"])]
            for cell, value in zip(line.cells, values):
                _cell(cell, value)
    doc.add_paragraph()
    sign = doc.add_paragraph()
    sign.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _font(sign.add_run(issuer), size=12)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
