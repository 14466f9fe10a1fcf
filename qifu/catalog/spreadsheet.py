"""The catalog as a spreadsheet in the seeds' layout (seed 003 附件4), for export, import and the import template.

Row 1 is the title; rows 2–3 the two header rows of 附件4 (服务类别 over 一级类别/二级分类/三级分类, 办理渠道 over
线上/线下); the items start on row 4. The third-level cell is the item's name followed by its provider mark
(★ government, ▲ market, ● society). Three columns after the seed's fourteen keep what the seed's layout leaves
implicit, so an export imports back without loss: 事项编码 (the item's code), 所属节点 (the node's code; empty for a
common item) and 服务板块 (the section's code or name).

`import_items` checks every row before writing anything: a file with one bad row imports nothing and the report
names the row and the column. Items are matched by code (new codes create items, known ones are updated; items
missing from the file are left alone).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from .models import MARKS, Frequency, ServiceItem, Term
from .writer import write

TITLE_ROW, HEADER_ROWS, FIRST_ROW = 1, (2, 3), 4
# (top header, sub header, attribute): the seed's fourteen columns, then the three that make a round trip lossless.
COLUMNS = [
    ("序号", "", "seq"),
    ("服务类别", "一级类别", "category1"),
    ("", "二级分类", "category2"),
    ("", "三级分类（服务提供方：★政府 ▲市场 ●社会）", "name"),
    ("服务内容", "", "content"),
    ("服务流程", "", "process"),
    ("责任部门", "", "units_text"),
    ("服务频次", "", "frequency"),
    ("服务对象", "", "target_users"),
    ("服务区域", "", "area"),
    ("服务期限", "", "term"),
    ("办理渠道", "线上", "online_channel"),
    ("", "线下", "offline_channel"),
    ("联系人及联系电话", "", "contact"),
    ("事项编码", "", "code"),
    ("所属节点", "", "node"),
    ("服务板块", "", "section"),
]
FREQUENCY_TEXT = {Frequency.HIGH: "高频", Frequency.MEDIUM: "中频", Frequency.LOW: "低频"}
TERM_TEXT = {Term.LONG_TERM: "长期", Term.YEARLY: "年度更新"}
SIDE_OF_MARK = {mark: side for side, mark in MARKS.items()}
CODE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class ImportFileError(ValueError):
    """The file cannot be read as the catalog layout (nothing was imported)."""


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def __str__(self):
        return _("row %(row)d, %(column)s: %(message)s") % {"row": self.row, "column": self.column,
                                                             "message": self.message}


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


def _header(attr: str) -> str:
    for top, sub, name in COLUMNS:
        if name == attr:
            return sub or top
    return attr


def _title(region, node) -> str:
    return f"{region.name}{node.name if node else ''}涉企服务事项清单"


def workbook(region, items, node=None) -> bytes:
    """`items` in the seeds' layout (an empty `items` is the import template)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = "服务事项清单"
    sheet.append([_title(region, node)])
    sheet.append([top for top, _sub, _attr in COLUMNS])
    sheet.append([sub for _top, sub, _attr in COLUMNS])
    last = len(COLUMNS)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last)
    sheet.merge_cells(start_row=2, start_column=2, end_row=2, end_column=4)
    sheet.merge_cells(start_row=2, start_column=12, end_row=2, end_column=13)
    for col, (top, sub, _attr) in enumerate(COLUMNS, start=1):
        if not sub and top:
            sheet.merge_cells(start_row=2, start_column=col, end_row=3, end_column=col)
    for row in sheet.iter_rows(min_row=1, max_row=3):
        for cell in row:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for item in items:
        sheet.append([_cell(item, attr) for _top, _sub, attr in COLUMNS])
    widths = {"seq": 6, "name": 28, "content": 40, "process": 40, "units_text": 20}
    for col, (_top, _sub, attr) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = widths.get(attr, 14)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(item: ServiceItem, attr: str):
    if attr == "name":
        return f"{item.name}{item.mark}"
    if attr == "frequency":
        return FREQUENCY_TEXT.get(item.frequency, "")
    if attr == "term":
        return TERM_TEXT.get(item.term, "")
    if attr == "node":
        return item.node.code if item.node_id else ""
    if attr == "section":
        return item.section.code if item.section_id else ""
    return getattr(item, attr)


def export(region, node=None) -> bytes:
    qs = ServiceItem.objects.filter(region=region).select_related("node", "section")
    if node is not None:
        qs = qs.filter(node=node)
    return workbook(region, qs, node)


# --- import ---------------------------------------------------------------------------------------------------

def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _rows(source, name: str):
    from openpyxl import load_workbook

    try:
        book = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # not an .xlsx file, or a damaged one
        raise ImportFileError(_("%(path)s is not an Excel (.xlsx) file: %(error)s") % {
            "path": name, "error": exc}) from None
    sheet = book.worksheets[0]
    rows = [[_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    book.close()
    if len(rows) < 3 or not rows[1] or rows[1][0] != "序号" or len(rows[2]) < 4 or not rows[2][3].startswith("三级分类"):
        raise ImportFileError(_("%(path)s does not have the catalog's layout: use the import template (rows 2–3 are "
                                "the headers, the items start on row 4).") % {"path": name})
    return rows


def import_items(source, region, node=None, dry_run: bool = False, filename: str = "") -> ImportReport:
    """Check every row, then write all of them in one transaction — or nothing when a row is bad. `source`: a path
    or an open file (an upload: give its `filename`)."""
    from qifu.org.models import Section, ServiceNode

    if isinstance(source, (str, Path)):
        source = Path(source)
        filename = filename or source.name
    rows = _rows(source, filename)
    report = ImportReport(dry_run=dry_run)
    nodes = {n.code: n for n in ServiceNode.objects.filter(region=region)}
    sections = {}
    for s in Section.objects.filter(region=region):
        sections[s.code] = s
        sections.setdefault(s.name, s)
    taken_elsewhere = set(ServiceItem.objects.exclude(region=region).values_list("code", flat=True))
    parsed: list[tuple[int, dict]] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[FIRST_ROW - 1:], start=FIRST_ROW):
        row = (row + [""] * len(COLUMNS))[:len(COLUMNS)]
        if not any(row):
            continue
        cells = {attr: row[i] for i, (_t, _s, attr) in enumerate(COLUMNS)}
        values, problems = _values(cells, region, node, nodes, sections)
        code = cells["code"]
        if not code:
            scope = values["node"].code if values.get("node") else f"{region.code}-gx"
            code = f"{scope}-{values.get('seq', 0):03d}"
        if not CODE.match(code):
            problems.append((_header("code"), _("use lowercase letters, digits and hyphens")))
        elif code in taken_elsewhere:
            problems.append((_header("code"), _("the code %(code)s belongs to another region") % {"code": code}))
        elif code in seen:
            problems.append((_header("code"), _("the code %(code)s is also on row %(row)d") % {
                "code": code, "row": seen[code]}))
        seen.setdefault(code, number)
        report.errors += [RowError(number, column, message) for column, message in problems]
        parsed.append((number, {"code": code, **values}))
    if report.errors:
        return report
    rows = []
    for _number, values in parsed:
        fields = {k: v for k, v in values.items() if k not in ("code", "node", "section")}
        fields["node_id"] = values["node"].pk if values["node"] else None
        fields["section_id"] = values["section"].pk if values["section"] else None
        rows.append((values["code"], fields))
    with transaction.atomic():
        written = write(region, rows, note=f"import {filename}")
        if dry_run:
            transaction.set_rollback(True)
    report.created, report.updated, report.unchanged = written.created, written.updated, written.unchanged
    return report


def _values(cells: dict, region, node, nodes: dict, sections: dict) -> tuple[dict, list[tuple[str, str]]]:
    problems: list[tuple[str, str]] = []
    values: dict = {}
    seq = cells["seq"].replace(" ", "")
    if seq and not seq.isdigit():
        problems.append((_header("seq"), _("a whole number")))
    values["seq"] = int(seq) if seq.isdigit() else 0
    name = cells["name"]
    mark = name[-1:] if name[-1:] in SIDE_OF_MARK else ""
    values["name"] = name[:-1].strip() if mark else name
    if not values["name"]:
        problems.append((_header("name"), _("the service item's name is required")))
    if not mark:
        problems.append((_header("name"), _("end the name with the provider side: ★ government, ▲ market, "
                                            "● society")))
    values["provider_side"] = SIDE_OF_MARK.get(mark, "")
    frequency = cells["frequency"].replace(" ", "")
    by_text = {text: value for value, text in FREQUENCY_TEXT.items()} | {
        text[0]: value for value, text in FREQUENCY_TEXT.items()}
    if frequency and frequency not in by_text:
        problems.append((_header("frequency"), _("高频, 中频, 低频 or empty")))
    values["frequency"] = by_text.get(frequency, "")
    term = cells["term"]
    if term and not any(term.startswith(text) for text in TERM_TEXT.values()):
        problems.append((_header("term"), _("长期 or 年度更新")))
    values["term"] = Term.YEARLY if term.startswith("年度") else Term.LONG_TERM
    node_code = cells["node"]
    if node is not None and node_code and node_code != node.code:
        problems.append((_header("node"), _("this file is imported for %(node)s") % {"node": node.code}))
    chosen = node if node is not None else (nodes.get(node_code) if node_code else None)
    if node_code and chosen is None:
        problems.append((_header("node"), _("no service node %(code)s in this region") % {"code": node_code}))
    values["node"] = chosen
    section = cells["section"]
    values["section"] = sections.get(section) if section else _section_of(cells["category1"], sections)
    if section and values["section"] is None:
        problems.append((_header("section"), _("no section %(code)s in this region") % {"code": section}))
    for attr in ("category1", "category2", "content", "process", "units_text", "target_users", "area",
                 "online_channel", "offline_channel", "contact"):
        values[attr] = cells[attr]
        limit = ServiceItem._meta.get_field(attr).max_length
        if limit and len(cells[attr]) > limit:
            problems.append((_header(attr), _("at most %(n)d characters") % {"n": limit}))
    if len(values["name"]) > ServiceItem._meta.get_field("name").max_length:
        problems.append((_header("name"), _("at most %(n)d characters") % {"n": 200}))
    return values, problems


def _section_of(category1: str, sections: dict):
    """The section a first-level category names (人才服务 → 人才服务板块), when exactly one does."""
    stem = category1.removesuffix("服务")
    if not stem:
        return None
    found = {s.pk: s for s in sections.values() if stem in s.name}
    return next(iter(found.values())) if len(found) == 1 else None
