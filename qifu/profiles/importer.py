"""Import departmental data into the profile: CSV (UTF-8 or GBK/GB18030) or Excel .xlsx, one enterprise
per row, read with the enterprise importer's readers.

Columns: `uscc` (统一社会信用代码) to find the enterprise, one column per indicator — its code
(`employees`) or its Chinese name (`参保人数`, also `参保人数（人）` with the unit) — and optionally
`as_of` (数据日期/截至日期) and `source` (来源). An empty cell means "no value"; `--as-of`/`--source`
give defaults for the whole file (the source defaults to the indicator's department). Other columns
(企业名称, 序号, …) are ignored and listed in the report.

Every row is checked before anything is written: any bad row imports nothing unless `skip_bad_rows`,
and the report names every problem with the row number the spreadsheet shows. Values for a date the
history already holds replace it; other dates are added to the history. The tag rules are re-applied
to the enterprises whose values changed.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from qifu.accounts import scopes
from qifu.enterprises.importer import COLUMNS as ENTERPRISE_COLUMNS
from qifu.enterprises.importer import (
    ImportFileError,
    RowError,
    Source,
    _header_key,
    _is_blank,
    _read_bytes,
    _text,
    read_rows,
)
from qifu.enterprises.models import Enterprise
from qifu.lib import uscc
from qifu.org.models import Region

from . import services
from .models import Indicator
from .values import as_of_problem, clean_cell
from .values import source_problem as value_source_problem

__all__ = ["ImportFileError", "RowError", "ValueImportReport", "import_values"]

COLUMNS: dict[str, tuple[str, ...]] = {
    "uscc": ENTERPRISE_COLUMNS["uscc"],
    "as_of": ("as_of", "数据日期", "截至日期", "统计日期", "日期"),
    "source": ("source", "来源", "数据来源", "来源部门"),
    "name": ENTERPRISE_COLUMNS["name"],  # shown in the file for people; not imported
}
_ALIASES = {_header_key(alias): column for column, aliases in COLUMNS.items() for alias in aliases}
UNIT_SUFFIX = re.compile(r"[（(][^（）()]*[）)]$")


@dataclass
class ValueImportReport:
    rows: int = 0  # data rows in the file
    imported_rows: int = 0
    skipped: int = 0  # rows not imported (bad rows; every row when the import was abandoned)
    created: int = 0  # values added to the history
    updated: int = 0  # values that replaced a different value of the same date
    unchanged: int = 0
    tags_added: int = 0
    tags_removed: int = 0
    errors: list[RowError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # column → the header as written
    ignored_columns: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass
class _Row:
    number: int
    uscc: str
    enterprise_id: int | None
    as_of: datetime.date | None
    values: list[services.NewValue]


def _indicator_keys(indicators: list[Indicator]) -> dict[str, Indicator]:
    keys: dict[str, Indicator] = {}
    for indicator in indicators:
        keys[_header_key(indicator.code)] = indicator
        keys[_header_key(indicator.name)] = indicator
    return keys


def _map_header(number: int, cells: list[Any], indicators: list[Indicator], user,
                report: ValueImportReport) -> tuple[dict[str, int], dict[int, Indicator]]:
    by_key = _indicator_keys(indicators)
    positions: dict[str, int] = {}
    columns: dict[int, Indicator] = {}
    for index, cell in enumerate(cells):
        key = _header_key(cell)
        if not key:
            continue
        column = _ALIASES.get(key)
        indicator = by_key.get(key) or by_key.get(UNIT_SUFFIX.sub("", key))
        name = column or (indicator.code if indicator else None)
        if name is None:
            report.ignored_columns.append(_text(cell))
            continue
        if name in report.headers:
            report.errors.append(RowError(number, "", name, _("Two columns hold %(column)s: '%(a)s' and '%(b)s'.") % {
                "column": name, "a": report.headers[name], "b": _text(cell)}))
            continue
        report.headers[name] = _text(cell)
        if column:
            positions[column] = index
        else:
            columns[index] = indicator
            problem = services.indicator_problem(user, indicator) if user is not None else None
            if problem:
                report.errors.append(RowError(number, "", indicator.code, problem))
    if "uscc" not in positions:
        report.errors.append(RowError(number, "", "uscc", _(
            "The header row has no column for %(column)s (e.g. '%(english)s' or '%(chinese)s').") % {
            "column": "uscc", "english": "uscc", "chinese": "统一社会信用代码"}))
    if not columns:
        report.errors.append(RowError(number, "", "indicator", _(
            "The header row names no indicator of this region (use codes like %(example)s or their names).") % {
            "example": ", ".join(i.code for i in indicators[:3]) or "employees"}))
    return positions, columns


def _cell(cells: list[Any], index: int | None) -> Any:
    if index is None or index >= len(cells):
        return None
    return cells[index]


def _check_row(number: int, cells: list[Any], positions: dict[str, int], columns: dict[int, Indicator],
               enterprises: dict[str, int], default_as_of, default_source: str | None, user,
               errors: list[RowError]) -> tuple[_Row, bool]:
    code = uscc.normalize(_text(_cell(cells, positions.get("uscc"))))
    problems: list[tuple[str, str]] = []
    problem = uscc.problem(code)
    enterprise_id = None
    if problem:
        problems.append(("uscc", problem))
    else:
        enterprise_id = enterprises.get(code)
        if enterprise_id is None:
            problems.append(("uscc", _("No enterprise with the code %(code)s is registered here.") % {"code": code}))
    as_of = default_as_of
    raw_date = _cell(cells, positions.get("as_of"))
    if _text(raw_date):
        day, problem = clean_cell("date", raw_date)
        if problem:
            problems.append(("as_of", problem))
        as_of = day
    if as_of is None and not _text(raw_date):
        problems.append(("as_of", _("The date the values are as of is missing (an as_of column or --as-of).")))
    elif as_of is not None and as_of_problem(as_of):
        problems.append(("as_of", as_of_problem(as_of)))
    source_cell = _text(_cell(cells, positions.get("source")))
    row = _Row(number, code, enterprise_id, as_of, [])
    for index, indicator in columns.items():
        raw = _cell(cells, index)
        if not _text(raw):
            continue
        value, problem = clean_cell(indicator.datatype, raw)
        if problem:
            problems.append((indicator.code, problem))
            continue
        source = source_cell or default_source or indicator.source
        problem = value_source_problem(source) or (
            services.source_problem(user, indicator, source) if user is not None else None)
        if problem:
            problems.append(("source", problem))
            continue
        if enterprise_id is not None and as_of is not None:
            row.values.append(services.NewValue(enterprise_id, indicator, value, as_of, source))
    seen = set()
    for field_name, message in problems:
        if (field_name, message) not in seen:
            seen.add((field_name, message))
            errors.append(RowError(number, code, field_name, message))
    return row, not problems


def import_values(file_or_path: Source, region: Region, *, filename: str | None = None, source: str | None = None,
                  as_of: datetime.date | None = None, skip_bad_rows: bool = False, dry_run: bool = False,
                  user=None) -> ValueImportReport:
    """Import indicator values of `region`'s enterprises from a CSV or .xlsx file.

    With `user` (the web page), only enterprises the user may see are found, and a handler may only
    import their own department's indicators under their department's code. Raises ImportFileError
    if the file cannot be read at all; every other problem is in the report.
    """
    data, name = _read_bytes(file_or_path)
    filename = filename or name
    report = ValueImportReport(dry_run=dry_run)
    indicators = list(Indicator.objects.filter(region=region).order_by("sort_order", "code"))
    if user is not None and source is None and services.own_source(user):
        source = services.own_source(user)
    if as_of is not None and as_of_problem(as_of):
        report.errors.append(RowError(0, "", "as_of", as_of_problem(as_of)))
        return report

    header: tuple[dict[str, int], dict[int, Indicator]] | None = None
    raw_rows: list[tuple[int, list[Any]]] = []
    for number, cells in read_rows(data):
        if _is_blank(cells):
            continue
        if header is None:
            header = _map_header(number, cells, indicators, user, report)
            if report.errors:
                return report
            continue
        raw_rows.append((number, cells))
    if header is None:
        report.errors.append(RowError(1, "", "uscc", _("The file is empty.")))
        return report
    positions, columns = header
    report.rows = len(raw_rows)

    codes = {uscc.normalize(_text(_cell(cells, positions["uscc"]))) for _n, cells in raw_rows}
    found = Enterprise.objects.filter(region=region) if user is None else scopes.enterprises(user).filter(region=region)
    enterprises: dict[str, int] = {}
    code_list = sorted(codes)
    for start in range(0, len(code_list), 500):
        enterprises.update(found.filter(uscc__in=code_list[start:start + 500]).values_list("uscc", "pk"))

    good: list[_Row] = []
    first_seen: dict[tuple[str, Any], int] = {}
    for number, cells in raw_rows:
        row, ok = _check_row(number, cells, positions, columns, enterprises, as_of, source, user, report.errors)
        key = (row.uscc, row.as_of)
        if row.uscc and key in first_seen:
            report.errors.append(RowError(number, row.uscc, "uscc", _(
                "The code %(code)s with the date %(date)s is already on row %(row)d of this file.") % {
                "code": row.uscc, "date": row.as_of, "row": first_seen[key]}))
            ok = False
        elif row.uscc:
            first_seen[key] = number
        if ok:
            good.append(row)
    report.errors.sort(key=lambda e: e.row_number)
    if report.errors and not skip_bad_rows:
        report.skipped = report.rows
        return report
    report.skipped = report.rows - len(good)
    report.imported_rows = len(good)
    items = [value for row in good for value in row.values]
    if items:
        note = _("Imported from %(file)s") % {"file": filename} if filename else _("Imported")
        with transaction.atomic():
            result = services.write_values(items, user=user, note=note)
            report.created, report.updated, report.unchanged = result.created, result.updated, result.unchanged
            if result.tags:
                report.tags_added, report.tags_removed = result.tags.added, result.tags.removed
            if dry_run:
                transaction.set_rollback(True)
    return report
