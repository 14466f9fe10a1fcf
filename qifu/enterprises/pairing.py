"""Pairings of liaison officers (助企员) with enterprises from a CSV file: `qifu enterprise pair FILE --region CODE`.

Columns (a heading line, UTF-8 or GBK): the officer's username (`username` or 助企员账号) and the enterprise's credit
code (`uscc` or 统一社会信用代码), one pairing a line. All or nothing: any bad line (unknown user, a user without the
liaison role, an enterprise not of the region) and nothing is written. Pairings are added, never removed (the admin
removes them)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from qifu.accounts.models import Role, User
from qifu.lib import uscc as uscc_lib

from .models import Enterprise, LiaisonOfficer

USER_COLUMNS = ("username", "助企员账号")
USCC_COLUMNS = ("uscc", "统一社会信用代码")


def _text(path: Path) -> str:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gbk"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError(_("The file is neither UTF-8 nor GBK."))


def import_pairings(path: Path, region) -> tuple[int, list[str]]:
    """(pairings added, problems); with any problem nothing is written."""
    reader = csv.DictReader(io.StringIO(_text(path)))
    fields = reader.fieldnames or []
    user_col = next((c for c in fields if c.strip() in USER_COLUMNS), None)
    uscc_col = next((c for c in fields if c.strip() in USCC_COLUMNS), None)
    if user_col is None or uscc_col is None:
        return 0, [_("The heading line needs the columns username and uscc (助企员账号, 统一社会信用代码).")]
    pairs, problems = [], []
    for number, row in enumerate(reader, start=2):
        username, code = (row.get(user_col) or "").strip(), uscc_lib.normalize((row.get(uscc_col) or "").strip())
        user = User.objects.filter(username=username).first()
        enterprise = Enterprise.objects.filter(region=region, uscc=code).first()
        if user is None or not user.has_role(Role.LIAISON):
            problems.append(_("line %(n)d: %(user)s is not a liaison officer") % {"n": number, "user": username})
        elif enterprise is None:
            problems.append(_("line %(n)d: no enterprise %(uscc)s in this region") % {"n": number, "uscc": code})
        else:
            pairs.append((user, enterprise))
    if problems:
        return 0, problems
    added = 0
    with transaction.atomic():
        for user, enterprise in pairs:
            officer, _new = LiaisonOfficer.objects.get_or_create(user=user, defaults={"region": region})
            if not officer.enterprises.filter(pk=enterprise.pk).exists():
                officer.enterprises.add(enterprise)
                added += 1
    return added, []
