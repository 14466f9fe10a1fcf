"""Every bad input is a 400 with a message (Chinese by default) and nothing is half-saved — the holes found
by attacking the API, Open311 and the pages: implausible times of receipt, over-long text, NUL bytes,
huge limits and amounts, reused Idempotency-Keys, actions without a version, and uploads of any type."""

import datetime
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from qifu.accounts.models import Role
from qifu.appeals.models import Appeal, AppealAttachment, AppealEvent
from qifu.lib import uploads
from qifu.policies.models import Application, ApplicationMaterial, Payout, PolicyClause

from .world import populated

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def chinese(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    w = populated("bi")
    w.tokens = {role: w.token(user) for role, user in w.users.items()}
    return w


def call(client, world, method, path, who=Role.FRONT_DESK, data=None, **headers):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {world.tokens[who]}", **headers}
    if method == "get":
        return client.get(path, data or {}, **headers)
    return client.post(path, data or {}, content_type="application/json", **headers)


def file(client, world, who=Role.FRONT_DESK, headers=None, **fields):
    body = {"enterprise_uscc": world.ent_east.uscc, "title": "厂房消防验收咨询", "description": "需要哪些材料？",
            "channel": "walk_in", "contact_name": "陈经理", "contact_phone": "13900001234", **fields}
    return call(client, world, "post", "/api/v1/appeals", who, body, **(headers or {}))


def refused(response, field=None, status=400):
    """The answer is `status` with a Chinese message (naming `field` when given)."""
    assert response.status_code == status, response.content
    body = response.json()
    assert chinese(body["detail"]), body
    if field:
        assert field in body["detail"] or any(e["field"] == field for e in body.get("errors", [])), body
    return body


# --- times of receipt ------------------------------------------------------------------------------------

def test_a_time_of_receipt_in_the_year_309_is_refused_and_nothing_is_stored(client, world):
    before = Appeal.objects.count()
    body = refused(file(client, world, received_at="0309-11-14T00:28:12-13:17"))
    assert "2000-01-01" in body["detail"]
    assert Appeal.objects.count() == before


def test_a_time_of_receipt_without_a_time_zone_is_refused(client, world):
    body = refused(file(client, world, received_at="2026-11-20T10:00:00"), "received_at")
    assert "+08:00" in body["detail"]


def test_a_time_of_receipt_may_run_five_minutes_ahead_but_not_more(client, world):
    now = timezone.now()
    assert file(client, world, received_at=(now + datetime.timedelta(minutes=2)).isoformat()).status_code == 201
    refused(file(client, world, received_at=(now + datetime.timedelta(minutes=10)).isoformat()))


def test_the_earliest_time_of_receipt_is_a_region_rule(client, world):
    world.region.config = {"received_at_earliest": "2020-01-01"}
    world.region.save()
    body = refused(file(client, world, received_at="2019-12-31T23:00:00+08:00"))
    assert "2020-01-01" in body["detail"]
    assert file(client, world, received_at="2020-01-01T00:00:00+08:00").status_code == 201


# --- lengths, NUL, limits, amounts -----------------------------------------------------------------------

def test_text_over_the_columns_length_is_refused_by_field(client, world):
    refused(file(client, world, title="标" * 201), "title")
    assert file(client, world, title="标" * 200).status_code == 201
    refused(file(client, world, contact_phone="1" * 33), "contact_phone")
    refused(file(client, world, contact_name="名" * 65), "contact_name")
    refused(file(client, world, description="字" * 10001), "description")
    assert not Appeal.objects.filter(title="标" * 201).exists()


def test_a_nul_anywhere_is_a_400_never_a_500(client, world):
    refused(file(client, world, description="坏\x00字"), "description")
    refused(call(client, world, "get", "/api/v1/appeals", data={"q": "坏\x00"}))
    refused(call(client, world, "get", "/api/v1/enterprises", data={"q": "\x00"}))
    aid = world.assigned.pk
    version = Appeal.objects.get(pk=aid).version
    refused(call(client, world, "post", f"/api/v1/appeals/{aid}/actions/reply", Role.HANDLER,
                 {"version": version, "resolution": "solved", "text": "答复\x00"}))
    refused(call(client, world, "post", "/api/v1/profiles/values", Role.ADMIN,
                [{"uscc": world.ent_east.uscc, "indicator": "employees\x00", "value": 1, "as_of": "2026-01-01"}]))
    assert client.get("/appeals/", {"q": "\x00"}).status_code in (302, 400)  # not logged in: still no 500
    client.force_login(world.users[Role.ADMIN])
    for page in ("/appeals/", "/enterprises/", "/policies/", "/policies/payouts/", "/tags/", "/inbox/"):
        assert client.get(page, {"q": "坏\x00", "status": "\x00"}).status_code == 400, page
    assert Appeal.objects.get(pk=aid).version == version


def test_limit_is_1_to_200_and_offset_bounded(client, world):
    assert call(client, world, "get", "/api/v1/appeals", data={"limit": 200}).status_code == 200
    body = refused(call(client, world, "get", "/api/v1/appeals", data={"limit": 201}), "limit")
    assert "200" in body["detail"]
    refused(call(client, world, "get", "/api/v1/appeals", data={"limit": 10**30}), "limit")
    refused(call(client, world, "get", "/api/v1/enterprises", data={"limit": 0}), "limit")
    refused(call(client, world, "get", "/api/v1/policies", data={"offset": -1}), "offset")
    refused(call(client, world, "get", "/api/v1/notifications", data={"offset": 10**20}), "offset")


def test_an_amount_of_1e30_is_refused_and_the_payout_stays_unpaid(client, world):
    payout = Payout.objects.get(application=world.application)
    for amount in (1e30, "1e30", -5, "12.345"):
        refused(call(client, world, "post", f"/api/v1/payouts/{payout.pk}/pay", Role.ADMIN,
                     {"paid_amount": amount, "paid_on": timezone.localdate().isoformat()}), "paid_amount")
    payout.refresh_from_db()
    assert payout.status == "approved" and payout.paid_amount is None


def test_a_review_with_an_amount_of_1e30_is_refused(client, world):
    from qifu.policies import applications

    clause = PolicyClause.objects.get(code="W-RD-2")
    application = applications.submit(clause, world.ent_west, world.west_user, {
        name: SimpleUploadedFile(f"{i}.pdf", PDF) for i, name in enumerate(clause.materials)})
    applications.perform(application, "start_review", world.users[Role.ADMIN], application.version)
    for amount in (1e30, "1e30"):
        refused(call(client, world, "post", f"/api/v1/applications/{application.pk}/actions/approve", Role.ADMIN,
                     {"version": application.version + 1, "amount": amount}), "amount")
    with pytest.raises(applications.ApplicationError):  # the pages go through the same domain check
        applications.perform(application, "approve", world.users[Role.ADMIN], application.version + 1,
                             amount="1e30")
    application.refresh_from_db()
    assert application.status == "under_review" and not Payout.objects.filter(application=application).exists()


def test_english_on_request(client, world):
    body = call(client, world, "get", "/api/v1/appeals", data={"limit": 500}, HTTP_ACCEPT_LANGUAGE="en").json()
    assert not chinese(body["detail"]) and "200" in body["detail"]


def test_no_token_is_a_401_with_a_message(client):
    r = client.get("/api/v1/appeals")
    assert r.status_code == 401 and chinese(r.json()["detail"])
    r = client.get("/api/v1/appeals/not-a-number")
    assert r.status_code == 404 and r["Content-Type"].startswith("application/json")
    r = client.get("/api/v1/enterprises/a%0Ab/matches")  # a newline in the path: still the API's JSON 404
    assert r.status_code == 404 and r["Content-Type"].startswith("application/json")


# --- Idempotency-Key and version --------------------------------------------------------------------------

def test_an_idempotency_key_reused_with_another_body_is_422_and_stores_nothing(client, world):
    key = {"HTTP_IDEMPOTENCY_KEY": "hotline-20261120-0042"}
    first = file(client, world, headers=key)
    again = file(client, world, headers=key)
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    before = Appeal.objects.count()
    other = refused(file(client, world, headers=key, title="另一个问题"), status=422)
    assert first.json()["number"] in other["detail"]
    assert Appeal.objects.count() == before
    refused(file(client, world, headers={"HTTP_IDEMPOTENCY_KEY": "k" * 129}))


def test_an_action_without_a_version_is_refused_and_changes_nothing(client, world):
    aid = world.assigned.pk
    events = AppealEvent.objects.filter(appeal_id=aid).count()
    refused(call(client, world, "post", f"/api/v1/appeals/{aid}/actions/reassign", Role.DISPATCHER,
                 {"lead_department": world.other_dept.code, "reason": "职责调整"}), "version")
    refused(call(client, world, "post", f"/api/v1/appeals/{aid}/actions/reassign", Role.DISPATCHER), "version")
    assert AppealEvent.objects.filter(appeal_id=aid).count() == events
    refused(call(client, world, "post", f"/api/v1/applications/{world.application.pk}/actions/start_review",
                 Role.ADMIN, {}), "version")


# --- Open311 ----------------------------------------------------------------------------------------------

def open311(client, world, headers=None, **fields):
    body = {"api_key": world.tokens[Role.FRONT_DESK], "service_code": "general",
            "attribute[uscc]": world.ent_east.uscc, "description": "园区门口道路积水", "first_name": "经理",
            "last_name": "陈", "phone": "13900001234", **fields}
    return client.post("/open311/v2/requests.json", body, **(headers or {}))


def test_open311_refuses_long_names_and_phones_and_nul_with_its_error_format(client, world):
    before = Appeal.objects.count()
    for fields in ({"first_name": "名" * 70}, {"phone": "1" * 40}, {"description": "积水\x00"},
                   {"attribute[contact_name]": "x" * 65}):
        r = open311(client, world, **fields)
        assert r.status_code == 400, (fields, r.content)
        assert chinese(r.json()[0]["description"]) and r.json()[0]["code"] == 400
    r = client.get("/open311/v2/requests.json", {"api_key": world.tokens[Role.FRONT_DESK],
                                                 "start_date": "0001-01-01T00:00:00+14:00"})
    assert r.status_code == 400
    assert Appeal.objects.count() == before


def test_open311_idempotency_key_reused_with_another_request_is_422(client, world):
    key = {"HTTP_IDEMPOTENCY_KEY": "o311-1"}
    first = open311(client, world, headers=key)
    assert open311(client, world, headers=key).json() == first.json()
    other = open311(client, world, headers=key, description="另一件事")
    assert other.status_code == 422 and chinese(other.json()[0]["description"])


# --- uploads ----------------------------------------------------------------------------------------------

def _docx(with_types=True) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if with_types:
            archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.mark.parametrize("name, content, ok", [
    ("申报书.pdf", PDF, True),
    ("照片.png", PNG, True),
    ("审计报告.docx", _docx(), True),
    ("说明.txt", "情况说明\n".encode("gb18030"), True),
    ("名单.csv", "统一社会信用代码,名称\n".encode(), True),
    ("run.exe", b"MZ\x90\x00" + b"\x00" * 60, False),
    ("申报书.pdf", b"MZ\x90\x00" + b"\x00" * 60, False),      # a program called .pdf
    ("页面.html", b"<html><script>alert(1)</script></html>", False),
    ("说明.txt", b"<!DOCTYPE html><script>alert(1)</script>", False),  # a web page called .txt
    ("图.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', False),
    ("审计报告.docx", _docx(with_types=False), False),          # a zip, not a Word file
    ("审计报告.docx", PDF, False),
    ("空.pdf", b"", False),
    ("../../etc/passwd.pdf", PDF, True),                       # accepted under its own name only
])
def test_the_one_upload_check(name, content, ok):
    upload = SimpleUploadedFile(name, content)
    if ok:
        assert "/" not in uploads.check(upload, uploads.DOCUMENT)
    else:
        with pytest.raises(uploads.UploadError) as refused_:
            uploads.check(upload, uploads.DOCUMENT)
        assert chinese(str(refused_.value))


def test_a_file_over_the_size_limit_is_refused_without_reading_it():
    big = SimpleUploadedFile("大.pdf", PDF)
    big.size = uploads.DOCUMENT.max_bytes + 1
    with pytest.raises(uploads.UploadError, match="20"):
        uploads.check(big, uploads.DOCUMENT)


def _forget_applications(clause):
    """Remove the world's application for `clause`, so the enterprise may apply again. An application's events are
    append-only in the database: only its owner can remove them, bypassing the triggers (qifu.audit.protect)."""
    from django.db import connection, transaction

    from qifu.audit import protect

    with transaction.atomic(), protect.suspended(connection):
        Payout.objects.filter(clause=clause).delete()
        Application.objects.filter(clause=clause).delete()


def _apply(client, world, files):
    clause = PolicyClause.objects.get(code="W-RD-2")
    _forget_applications(clause)
    return client.post(f"/api/v1/clauses/{clause.pk}/applications", {"note": "申报", **files},
                       HTTP_AUTHORIZATION=f"Bearer {world.tokens[Role.ENTERPRISE]}")


def test_application_materials_pass_the_same_check_and_nothing_is_stored(client, world, tmp_path):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg">' + b" " * (30 * 1024 * 1024) + b"</svg>"
    for bad in (SimpleUploadedFile("a.exe", b"MZ" + b"\x00" * 100), SimpleUploadedFile("a.html", b"<html></html>"),
                SimpleUploadedFile("a.svg", svg), SimpleUploadedFile("a.pdf", b"<html></html>")):
        r = _apply(client, world, {"material_0": bad, "material_1": SimpleUploadedFile("b.pdf", PDF)})
        refused(r)
        assert not Application.objects.filter(clause__code="W-RD-2").exists()
        assert not ApplicationMaterial.objects.filter(application__clause__code="W-RD-2").exists()
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p.name.startswith("a.")]
    ok = _apply(client, world, {"material_0": SimpleUploadedFile("a.pdf", PDF),
                                "material_1": SimpleUploadedFile("b.png", PNG)})
    assert ok.status_code == 201, ok.content


def test_appeal_attachments_pass_the_same_check(client, world):
    aid = world.assigned.pk
    r = client.post(f"/api/v1/appeals/{aid}/attachments", {"file": SimpleUploadedFile("x.pdf", b"<html></html>")},
                    HTTP_AUTHORIZATION=f"Bearer {world.tokens[Role.FRONT_DESK]}")
    refused(r)
    assert not AppealAttachment.objects.filter(appeal_id=aid).exists()


def test_the_pages_uploads_say_why_a_file_is_refused(client, world):
    client.force_login(world.users[Role.ENTERPRISE])
    clause = PolicyClause.objects.get(code="W-RD-2")
    _forget_applications(clause)
    page = client.post(f"/policies/clauses/{clause.pk}/apply/", {
        "material_0": SimpleUploadedFile("a.svg", b"<svg/>"), "material_1": SimpleUploadedFile("b.pdf", PDF)})
    assert page.status_code == 200 and "a.svg" in page.content.decode()
    assert not Application.objects.filter(clause=clause).exists()

    client.force_login(world.users[Role.ADMIN])
    page = client.post("/enterprises/import/", {"file": SimpleUploadedFile("企业.csv", b"MZ\x90\x00")}, follow=True)
    assert page.status_code == 200 and "企业.csv" in page.content.decode()
    page = client.post("/policies/import/", {"file": SimpleUploadedFile("p.yaml", b"<script>x</script>"),
                                             "region": world.region.code})
    assert page.status_code == 200 and "p.yaml" in page.content.decode()
    client.force_login(world.users[Role.HANDLER])
    page = client.post("/profiles/import/", {"file": SimpleUploadedFile("数据.html", b"<html></html>")})
    assert page.status_code == 200 and "数据.html" in page.content.decode()


def test_a_confirmation_list_with_a_wrong_id_says_so(client, world):
    clause = PolicyClause.objects.get(code="W-RD-1")
    client.force_login(world.users[Role.ADMIN])
    page = client.post(f"/policies/clauses/{clause.pk}/confirm/", {"enterprise": ["abc", str(10**30)]}, follow=True)
    assert page.status_code == 200 and not Payout.objects.filter(clause=clause).exists()
    refused(call(client, world, "post", f"/api/v1/clauses/{clause.pk}/payouts", Role.ADMIN,
                 {"enterprise_ids": [10**30]}), "enterprise_ids")


@pytest.mark.django_db(transaction=True)
def test_of_concurrent_reassigns_of_one_version_exactly_one_wins(settings, tmp_path):
    """Without a version 35 of 50 concurrent reassigns succeeded; with it required, one does."""
    import threading

    from django.db import connection
    from django.test import Client

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises the whole database)")
    settings.MEDIA_ROOT = tmp_path
    w = populated("cc")
    token = w.token(w.users[Role.DISPATCHER])
    aid, version = w.assigned.pk, w.assigned.version
    departments = [w.other_dept.code, w.dept.code]
    barrier, answers = threading.Barrier(10), []

    def reassign(i):
        try:
            barrier.wait()
            r = Client().post(f"/api/v1/appeals/{aid}/actions/reassign",
                              {"version": version, "lead_department": departments[0], "reason": f"第{i}次"},
                              content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
            answers.append(r.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=reassign, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [200] + [409] * 9, answers
    assert AppealEvent.objects.filter(appeal_id=aid, action="reassign").count() == 1
