"""Lists of the API: `limit` (1…200, default 50; more is a 400) and `offset`, paginated in the database.

A list view returns `Rows(queryset, show)`: the page is cut in SQL (LIMIT/OFFSET) and only its rows are
turned into dicts by `show`, so `limit=1` costs one row however many there are. A view that returns
anything but a queryset is a programming error (a list would be built whole before being cut) — unless
the list is bounded by construction and says so (`Rows(items, show, bounded=True)`: one enterprise's
matches, at most one per clause in force).

    @router.get("", response=list[AppealOut])
    @paginate(Paginated)
    def list_appeals(request, ...):
        return Rows(queries.with_related(qs), lambda a: as_dict(a, request.user))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from django.db.models import QuerySet
from ninja import Field, Schema
from ninja.pagination import PaginationBase

from qifu.lib import inputs, paging


@dataclass
class Rows:
    queryset: QuerySet | list
    show: Callable[[Any], Any] | None = None
    bounded: bool = False  # a list known to be short, cut in Python


class Paginated(PaginationBase):
    class Input(Schema):
        limit: int = Field(inputs.LIMIT_DEFAULT, ge=1, le=inputs.LIMIT_MAX,
                           description=f"rows per page, at most {inputs.LIMIT_MAX}")
        offset: int = Field(0, ge=0, le=inputs.OFFSET_MAX)

    def paginate_queryset(self, items, pagination, request, **params):
        rows = items if isinstance(items, Rows) else Rows(items)
        if not isinstance(rows.queryset, QuerySet) and not (rows.bounded and isinstance(rows.queryset, list)):
            raise TypeError("paginate a queryset (in the database), not a list")
        offset, limit = pagination.offset, pagination.limit
        page = list(rows.queryset[offset:offset + limit])
        count = len(rows.queryset) if isinstance(rows.queryset, list) else rows.queryset.count()
        return {"items": [rows.show(row) for row in page] if rows.show else page, "count": count}


class CappedPaginated(Paginated):
    """`Paginated` for lists that grow to millions (the appeals): `count` is exact up to `paging.COUNT_CAP`
    (10,000) matching rows; beyond, `count` is the cap and `count_capped` is true ("more than 10,000")."""

    class Output(Schema):
        items: list[Any]
        count: int = Field(description=f"the rows matching; at most {paging.COUNT_CAP} (see count_capped)")
        count_capped: bool = Field(False, description=f"true: more than {paging.COUNT_CAP} rows match and `count` "
                                                      "is the cap, not the total")

    def paginate_queryset(self, items, pagination, request, **params):
        rows = items if isinstance(items, Rows) else Rows(items)
        if not isinstance(rows.queryset, QuerySet):
            raise TypeError("paginate a queryset (in the database), not a list")
        offset, limit = pagination.offset, pagination.limit
        page = list(rows.queryset[offset:offset + limit])
        count, capped = paging.capped_count(rows.queryset)  # no state on self: one paginator serves every request
        return {"items": [rows.show(row) for row in page] if rows.show else page, "count": count,
                "count_capped": capped}
