"""Importing enterprises from CSV and Excel, and `qifu enterprise import`."""

import datetime
import io
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.utils import translation
from django.utils.translation import gettext

from qifu.audit.models import AuditEntry
from qifu.enterprises.importer import ImportFileError, RowError, import_enterprises
from qifu.enterprises.management.commands.enterprise import Command as EnterpriseCommand
from qifu.enterprises.models import Enterprise, Tag
from qifu.lib import uscc
from qifu.org.models import Jurisdiction, Region

QIFU = Path(sys.executable).parent / "qifu"

A = uscc.make("91", "350100", "MA000001")
B = uscc.make("91", "350100", "MA000002")
C = uscc.make("92", "350100", "MA000003")
ENGLISH_HEADER = "uscc,name,registered_address,jurisdiction,industry,size,registration_date,tags"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def region(db):
    return Region.objects.create(code="t", name="测试区")


@pytest.fixture
def town(region):
    return Jurisdiction.objects.create(region=region, code="t-east", name="东街道", level="township")


@pytest.fixture
def other_region(db):
    return Region.objects.create(code="o", name="别区")


def write(tmp_path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def csv_text(*rows: str, header: str = ENGLISH_HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def entries(enterprise, action=None):
    qs = AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(Enterprise),
                                   object_id=str(enterprise.pk))
    return qs.filter(action=action) if action else qs


# --- CSV ------------------------------------------------------------------------------------------

def test_csv_utf8(tmp_path, region, town):
    path = write(tmp_path, "e.csv", csv_text(
        f"{A},甲科技有限公司,东街道1号,t-east,C2710,small,2020-03-05,专精特新;规上工业",
        f"{B.lower()},乙贸易有限公司,,东街道,5123,micro,2019/12/31,",
    ))
    report = import_enterprises(path, region)
    assert report.ok and (report.created, report.updated, report.skipped) == (2, 0, 0)
    a = Enterprise.objects.get(uscc=A)
    assert (a.name, a.registered_address, a.jurisdiction, a.industry, a.size) == (
        "甲科技有限公司", "东街道1号", town, "C2710", "small")
    assert a.registration_date == datetime.date(2020, 3, 5)
    assert sorted(a.tags.values_list("name", flat=True)) == ["专精特新", "规上工业"]
    assert set(Tag.objects.values_list("kind", flat=True)) == {Tag.Kind.MANUAL}
    b = Enterprise.objects.get(uscc=B)  # the code is stored normalized
    assert (b.jurisdiction, b.industry, b.size, b.registration_date) == (
        town, "F5123", "micro", datetime.date(2019, 12, 31))
    assert b.region == region


def test_csv_utf8_with_bom_and_binary_file_object(region):
    data = ("\ufeff" + csv_text(f"{A},甲公司,,,,,,")).encode("utf-8")
    report = import_enterprises(io.BytesIO(data), region, filename="upload.csv")
    assert report.ok and report.created == 1
    assert "upload.csv" in entries(Enterprise.objects.get(uscc=A)).get().note


def test_csv_gbk_with_chinese_headers(tmp_path, region, town):
    text = (
        "统一社会信用代码,企业名称,注册地址,所属辖区,行业代码,企业规模,成立日期,标签\n"
        f"{A},甲科技有限公司,福州市鼓楼区,东街道,I65,小型,2021/1/2,高新技术企业，科技型中小企业\n"
        f"{B},乙有限公司,,t-east,C,大型企业,2018-07-08,专精特新｜外资|规上工业；重点\n"
    )
    path = write(tmp_path, "企业.csv", text, encoding="gbk")
    report = import_enterprises(path, region)
    assert report.ok, report.errors
    assert report.created == 2
    a = Enterprise.objects.get(uscc=A)
    assert (a.name, a.registered_address, a.size, a.industry) == ("甲科技有限公司", "福州市鼓楼区", "small", "I65")
    assert a.registration_date == datetime.date(2021, 1, 2)
    assert sorted(a.tags.values_list("name", flat=True)) == ["科技型中小企业", "高新技术企业"]
    b = Enterprise.objects.get(uscc=B)
    assert b.size == "large"
    # '｜' (full-width bar) is not a separator; '|' and '；' are
    assert sorted(b.tags.values_list("name", flat=True)) == ["专精特新｜外资", "规上工业", "重点"]


def test_registration_date_header_alias_and_gb18030(tmp_path, region):
    text = "统一社会信用代码,企业名称,注册日期\n" f"{A},㐀字号企业,2015-05-05\n"  # 㐀 is only in GB18030
    report = import_enterprises(write(tmp_path, "e.csv", text, encoding="gb18030"), region)
    assert report.ok and Enterprise.objects.get(uscc=A).registration_date == datetime.date(2015, 5, 5)


# --- Excel ----------------------------------------------------------------------------------------

def test_xlsx(tmp_path, region, town):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["统一社会信用代码", "企业名称", "所属辖区", "行业代码", "企业规模", "成立日期", "标签"])
    sheet.append([A, "甲公司", "东街道", "C2710", "中型", datetime.datetime(2020, 1, 2), "专精特新"])
    sheet.append([None] * 7)  # an empty row in between
    sheet.append([B, "乙公司", "t-east", 2710, "micro", 43831, None])  # 43831 = Excel serial for 2020-01-01
    sheet.append([C, "丙公司", None, "C99", "巨型", "2020-13-01", None])
    path = tmp_path / "e.xlsx"
    workbook.save(path)

    report = import_enterprises(path, region)
    assert not report.ok
    assert [(e.row_number, e.uscc, e.field) for e in report.errors] == [
        (5, C, "industry"), (5, C, "size"), (5, C, "registration_date")]
    assert Enterprise.objects.count() == 0

    report = import_enterprises(path, region, skip_bad_rows=True)
    assert (report.created, report.skipped) == (2, 1)
    a, b = Enterprise.objects.get(uscc=A), Enterprise.objects.get(uscc=B)
    assert (a.size, a.registration_date, a.jurisdiction) == ("medium", datetime.date(2020, 1, 2), town)
    assert (b.industry, b.registration_date) == ("C2710", datetime.date(2020, 1, 1))


def test_old_xls_is_refused(region):
    with pytest.raises(ImportFileError, match="xlsx"):
        import_enterprises(io.BytesIO(b"\xd0\xcf\x11\xe0" + b"\0" * 100), region)


# --- validation -----------------------------------------------------------------------------------

def test_all_or_nothing(tmp_path, region, town):
    path = write(tmp_path, "e.csv", csv_text(
        f"{A},甲公司,,t-east,C2710,small,2020-01-01,",
        f"{A[:-1]}X,,,nowhere,X12,huge,2020-02-30,",
        "",
        f"{B},乙公司,,,C2,,01/02/2020,",
        f"{C},丙公司,,,,,,",
        f"{C},丙公司又一次,,,,,,",
        f"{'9' * 17},丁公司,,,,,,",
    ))
    audit_before = AuditEntry.objects.count()
    report = import_enterprises(path, region)
    assert not report.ok
    assert Enterprise.objects.count() == 0 and Tag.objects.count() == 0
    assert AuditEntry.objects.count() == audit_before
    assert (report.created, report.updated, report.skipped) == (0, 0, 6)
    bad = f"{A[:-1]}X"
    assert [(e.row_number, e.uscc, e.field) for e in report.errors] == [
        (3, bad, "uscc"), (3, bad, "name"), (3, bad, "jurisdiction"), (3, bad, "industry"), (3, bad, "size"),
        (3, bad, "registration_date"),
        (5, B, "industry"), (5, B, "registration_date"),
        (7, C, "uscc"),
        (8, "9" * 17, "uscc"),
    ]
    messages = {(e.row_number, e.field): e.message for e in report.errors}
    assert "check character" in messages[3, "uscc"]
    assert "required" in messages[3, "name"]
    assert "nowhere" in messages[3, "jurisdiction"]
    assert "section letter" in messages[3, "industry"]
    assert "huge" in messages[3, "size"]
    assert "2020-02-30" in messages[3, "registration_date"]
    assert "already on row 6" in messages[7, "uscc"]
    assert "18 characters" in messages[8, "uscc"]


def test_skip_bad_rows(tmp_path, region):
    path = write(tmp_path, "e.csv", csv_text(
        f"{A},甲公司,,,,,,新标签",
        f"{B},乙公司,,,,medium-ish,,",
        f"{C},丙公司,,,,,,",
    ))
    report = import_enterprises(path, region, skip_bad_rows=True)
    assert (report.created, report.updated, report.skipped) == (2, 0, 1)
    assert [(e.row_number, e.field) for e in report.errors] == [(3, "size")]
    assert not report.ok
    assert set(Enterprise.objects.values_list("uscc", flat=True)) == {A, C}


def test_duplicate_within_file_even_when_the_first_row_is_bad(tmp_path, region):
    path = write(tmp_path, "e.csv", csv_text(f"{A},,,,,,,", f"{A.lower()},甲公司,,,,,,", f"{B},乙公司,,,,,,"))
    report = import_enterprises(path, region, skip_bad_rows=True)
    assert [(e.row_number, e.field) for e in report.errors] == [(2, "name"), (3, "uscc")]
    assert "already on row 2" in report.errors[1].message
    assert (report.created, report.skipped) == (1, 2)
    assert list(Enterprise.objects.values_list("uscc", flat=True)) == [B]


def test_missing_required_columns(tmp_path, region):
    report = import_enterprises(write(tmp_path, "e.csv", "name,size\n甲,small\n"), region)
    assert [(e.row_number, e.field) for e in report.errors] == [(1, "uscc")]
    report = import_enterprises(write(tmp_path, "e.csv", "\n\n"), region)
    assert [e.field for e in report.errors] == ["uscc"] and "empty" in report.errors[0].message


def test_future_date_and_too_long_name(tmp_path, region):
    path = write(tmp_path, "e.csv", csv_text(f"{A},{'长' * 201},,,,,2999-01-01,"))
    report = import_enterprises(path, region)
    assert [e.field for e in report.errors] == ["name", "registration_date"]
    assert "future" in report.errors[1].message


def test_dry_run_writes_nothing(tmp_path, region):
    Enterprise.objects.create(region=region, uscc=B, name="乙公司旧名")
    before = AuditEntry.objects.count()
    path = write(tmp_path, "e.csv", csv_text(f"{A},甲公司,,,,,,新标签", f"{B},乙公司,,,,,,"))
    report = import_enterprises(path, region, dry_run=True)
    assert report.ok and report.dry_run
    assert (report.created, report.updated) == (1, 1)
    assert Enterprise.objects.count() == 1 and Enterprise.objects.get().name == "乙公司旧名"
    assert not Tag.objects.exists() and AuditEntry.objects.count() == before


# --- existing enterprises -------------------------------------------------------------------------

def test_update_of_existing(tmp_path, region, town):
    old_tag = Tag.objects.create(name="旧标签", kind=Tag.Kind.DYNAMIC)
    existing = Enterprise.objects.create(region=region, uscc=A, name="甲公司", registered_address="老地址",
                                         size="small")
    existing.tags.add(old_tag)
    same = Enterprise.objects.create(region=region, uscc=B, name="乙公司")
    path = write(tmp_path, "e.csv", csv_text(
        f"{A},甲公司（新）,,东街道,C2710,medium,,新标签",
        f"{B},乙公司,,,,,,",
        f"{C},丙公司,,,,,,",
    ))
    last = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()
    report = import_enterprises(path, region)
    assert (report.created, report.updated, report.unchanged) == (1, 1, 1)
    assert Enterprise.objects.count() == 3
    existing.refresh_from_db()
    assert (existing.name, existing.registered_address, existing.jurisdiction, existing.industry,
            existing.size) == ("甲公司（新）", "老地址", town, "C2710", "medium")  # empty cell keeps the address
    assert sorted(existing.tags.values_list("name", flat=True)) == ["新标签", "旧标签"]
    update = entries(existing, AuditEntry.Action.UPDATE).get(id__gt=last)
    assert update.changes()["name"] == ("甲公司", "甲公司（新）")
    assert update.changes()["size"] == ("small", "medium")
    assert update.changes()["tags"] == ([str(old_tag.pk)], sorted([str(old_tag.pk),
                                                                   str(Tag.objects.get(name="新标签").pk)]))
    assert not entries(same).filter(id__gt=last).exists()


def test_code_registered_in_another_region(tmp_path, region, other_region):
    Enterprise.objects.create(region=other_region, uscc=A, name="甲公司")
    path = write(tmp_path, "e.csv", csv_text(f"{A},甲公司,,,,,,", f"{B},乙公司,,,,,,"))
    report = import_enterprises(path, region)
    assert [(e.row_number, e.uscc, e.field) for e in report.errors] == [(2, A, "uscc")]
    assert "别区" in report.errors[0].message
    assert Enterprise.objects.count() == 1
    report = import_enterprises(path, region, skip_bad_rows=True)
    assert report.created == 1 and Enterprise.objects.get(uscc=A).region == other_region


def test_jurisdiction_of_another_region_is_not_found(tmp_path, region, other_region):
    Jurisdiction.objects.create(region=other_region, code="o-west", name="西街道", level="township")
    report = import_enterprises(write(tmp_path, "e.csv", csv_text(f"{A},甲公司,,o-west,,,,")), region)
    assert [e.field for e in report.errors] == ["jurisdiction"]


def test_audit_entries_for_created_enterprises(tmp_path, region):
    path = write(tmp_path, "名单.csv", csv_text(f"{A},甲公司,,,,,,专精特新", f"{B},乙公司,,,,,,"))
    import_enterprises(path, region)
    a = Enterprise.objects.get(uscc=A)
    entry = entries(a).get()
    assert entry.action == AuditEntry.Action.CREATE
    assert entry.after["uscc"] == A and entry.after["name"] == "甲公司"
    assert entry.after["tags"] == [str(Tag.objects.get(name="专精特新").pk)]
    assert "名单.csv" in entry.note
    assert entries(Enterprise.objects.get(uscc=B)).count() == 1
    tag_type = ContentType.objects.get_for_model(Tag)
    assert AuditEntry.objects.filter(content_type=tag_type, action=AuditEntry.Action.CREATE).count() == 1


def test_row_error_shape():
    error = RowError(3, A, "size", "bad")
    assert (error.row_number, error.uscc, error.field, error.message) == (3, A, "size", "bad")


# --- the command ----------------------------------------------------------------------------------

def run_command(*args: str) -> int:
    from unittest import mock

    # run_from_argv closes every connection when it ends; the test's transaction must survive it.
    try:
        with mock.patch("django.core.management.base.connections.close_all"):
            EnterpriseCommand().run_from_argv(["qifu", "enterprise", *args])
    except SystemExit as exit:
        return exit.code
    return 0


def test_command_ok(tmp_path, region, capsys):
    path = write(tmp_path, "e.csv", csv_text(f"{A},甲公司,,,,,,"))
    assert run_command("import", str(path), "--region", "t") == 0
    out = capsys.readouterr().out
    assert "1 created, 0 updated, 0 unchanged, 0 skipped, 0 error(s)." in out
    assert Enterprise.objects.filter(uscc=A).exists()


def test_command_errors_import_nothing(tmp_path, region, capsys):
    path = write(tmp_path, "e.csv", "统一社会信用代码,企业名称,企业规模\n"
                                    f"{A},甲公司,小型\n{B},,巨型\n{C},丙公司,\n", encoding="gbk")
    assert run_command("import", str(path), "--region", "t") == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[:2] == [f"row 3 ({B}): 企业名称: The enterprise name is required.",
                         f"row 3 ({B}): 企业规模: Size '巨型' is not one of large, medium, small, micro "
                         "(大型, 中型, 小型, 微型)."]
    assert "0 created, 0 updated, 0 unchanged, 3 skipped, 2 error(s)." in lines[2]
    assert "Nothing was imported" in captured.err
    assert not Enterprise.objects.exists()


def test_command_skip_bad_rows_and_dry_run(tmp_path, region, capsys):
    path = write(tmp_path, "e.csv", csv_text(f"{A},甲公司,,,,,,", f"bad,乙公司,,,,,,"))
    assert run_command("import", str(path), "--region", "t", "--skip-bad-rows", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "row 3 (BAD): uscc: A unified social credit code has 18 characters" in out
    assert "Dry run" in out and "1 created" in out
    assert not Enterprise.objects.exists()
    assert run_command("import", str(path), "--region", "t", "--skip-bad-rows") == 0
    assert Enterprise.objects.count() == 1


def test_command_all_rows_bad_with_skip_is_an_error(tmp_path, region, capsys):
    path = write(tmp_path, "e.csv", csv_text("bad,乙公司,,,,,,"))
    assert run_command("import", str(path), "--region", "t", "--skip-bad-rows") == 1


def test_command_unknown_region_or_file(tmp_path, region, capsys):
    path = write(tmp_path, "e.csv", csv_text(f"{A},甲公司,,,,,,"))
    assert run_command("import", str(path), "--region", "nowhere") == 1
    assert "nowhere" in capsys.readouterr().err
    assert run_command("import", str(tmp_path / "missing.csv"), "--region", "t") == 1
    assert "missing.csv" in capsys.readouterr().err


def test_console_script_end_to_end(tmp_path):
    """The real `qifu` executable against its own SQLite database in a temporary data directory."""
    env = {**os.environ, "QIFU_DATA_DIR": str(tmp_path / "data"), "PYTHONIOENCODING": "utf-8"}
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)

    def qifu(*args):
        return subprocess.run([str(QIFU), *args], capture_output=True, text=True, encoding="utf-8", env=env,
                              timeout=120)

    assert qifu("migrate", "--verbosity", "0").returncode == 0
    assert qifu("shell", "-c", "from qifu.org.models import Region; Region.objects.create(code='t', name='测试区')"
                ).returncode == 0
    good = write(tmp_path, "good.csv", csv_text(f"{A},甲公司,,,,,,"))
    bad = write(tmp_path, "bad.csv", csv_text(f"{B},乙公司,,,,,,", f"{C},,,,,,,"))
    result = qifu("enterprise", "import", str(good), "--region", "t")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1  # the summary only
    result = qifu("enterprise", "import", str(bad), "--region", "t")
    assert result.returncode == 1
    with translation.override(settings.LANGUAGE_CODE):  # the command speaks the deployment's language
        expected = gettext("row %(row)d (%(uscc)s): %(field)s: %(message)s") % {
            "row": 3, "uscc": C, "field": "name", "message": gettext("The enterprise name is required.")}
    assert result.stdout.splitlines()[0] == expected
    assert result.stderr.strip()
    result = qifu("shell", "-c", "from qifu.enterprises.models import Enterprise; print(Enterprise.objects.count())")
    assert result.stdout.splitlines()[-1] == "1"


# --- speed ----------------------------------------------------------------------------------------

def test_ten_thousand_rows_in_bulk_not_row_by_row(tmp_path, region, town):
    """Speed is a benchmark's business (the figures are in docs/performance.md); what a test can hold without a
    clock is that the import works in bulk: the number of queries does not grow with the rows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rows = [f"{uscc.make('91', '350100', f'MA{i:06d}')},企业{i},地址{i},t-east,C2710,small,2020-01-01,标签{i % 5}"
            for i in range(10_000)]
    path = write(tmp_path, "big.csv", csv_text(*rows))
    with CaptureQueriesContext(connection) as first:
        report = import_enterprises(path, region)
    assert report.ok and report.created == 10_000
    assert AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(Enterprise)).count() == 10_000
    with CaptureQueriesContext(connection) as again:
        report = import_enterprises(path, region)  # again: all unchanged
    assert report.unchanged == 10_000
    assert len(first) < 1_000 and len(again) < 1_000, (len(first), len(again))  # row by row: > 10,000
