"""Downloads: every list's Excel export and every Word form go through here.

    exports.download(exports.workbook(title, header, rows), exports.XLSX, "ascii-name.xlsx", "中文名.xlsx")
    exports.export_list(_("Payouts"), [(_("enterprise"), lambda p: p.enterprise.name), ...], qs, name="payouts")
"""

from __future__ import annotations

import datetime
import io
from urllib.parse import quote

from django.core.exceptions import BadRequest
from django.http import HttpResponse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EXPORT_MAX = 5000  # rows in one Excel export


def workbook(title: str, header: list, rows, *, preface: list | None = None, bold_rows: int = 0) -> bytes:
    """One sheet named `title`: an optional `preface` line, the bold `header`, then `rows`; the first `bold_rows`
    data rows bold too (e.g. a total)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = str(title)[:31]
    if preface:
        sheet.append(preface)
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    first = 2 if preface else 1
    for line in range(1, first + 1 + bold_rows):
        for cell in sheet[line]:
            cell.font = Font(bold=True)
    for column in sheet.columns:
        sheet.column_dimensions[column[0].column_letter].width = 18
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def download(data: bytes, content_type: str, ascii_name: str, name: str) -> HttpResponse:
    """An attachment named `name` (UTF-8, RFC 6266), `ascii_name` for old clients."""
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return response


def local(value):
    """A time as the region's wall clock without a zone (Excel has none)."""
    return timezone.localtime(value).replace(tzinfo=None) if value else None


# --- a list's Excel export ---------------------------------------------------------------------------------
# A list page offers `?format=xlsx&<its filters>` (the button: templates front/_export_button.html) and answers it
# with `export_list(...)` over the very queryset it pages through.

def wants_xlsx(request) -> bool:
    return request.GET.get("format") == "xlsx"


def cell(value):
    """A value as users read it: times on the region's clock, labels as text, yes/no in words."""
    if isinstance(value, datetime.datetime):
        return local(value) if timezone.is_aware(value) else value
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, Promise):
        return str(value)
    return "" if value is None else value


def export_list(title, columns, items, *, name: str) -> HttpResponse:
    """`items` (a queryset or a list, in the page's order) as a download `<name>-<today>.xlsx`: one column per
    (heading, value of an item) of `columns`. At most EXPORT_MAX rows; when there are more, a note above the
    header says so."""
    rows = list(items[:EXPORT_MAX + 1])
    preface = None
    if len(rows) > EXPORT_MAX:
        total = len(items) if isinstance(items, list) else items.count()
        rows = rows[:EXPORT_MAX]
        preface = [_("Only the first %(max)d of %(total)d rows are exported: narrow the filters to get the rest.")
                   % {"max": EXPORT_MAX, "total": total}]
    title = str(title)
    data = workbook(title, [str(heading) for heading, _value in columns],
                    ([cell(value(item)) for _heading, value in columns] for item in rows), preface=preface)
    day = timezone.localdate().isoformat()
    return download(data, XLSX, f"{name}-{day}.xlsx", f"{title}-{day}.xlsx")


def refuse_invalid(form) -> None:
    """An export of a list whose filters are wrong is a 400 with the form's messages, never the unfiltered list."""
    if form.is_bound and not form.is_valid():
        raise BadRequest(" ".join(str(e) for errors in form.errors.values() for e in errors))
