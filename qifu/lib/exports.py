"""Downloads: every list's Excel export and every Word form go through here.

    exports.download(exports.workbook(title, header, rows), exports.XLSX, "ascii-name.xlsx", "中文名.xlsx")
"""

from __future__ import annotations

import io
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone

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
