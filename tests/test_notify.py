"""Notifications: inbox + transactional outbox, delivered through each adapter against a local fake."""

import datetime
import threading

import django
import pytest
from django.db import connections, transaction
from django.urls import reverse
from django.utils import timezone

from qifu import jobs
from qifu.accounts.models import User
from qifu.audit.context import acting_as
from qifu.audit.models import AuditEntry
from qifu.notify import adapters, notify
from qifu.notify.models import DingTalkIdentity, Notification, OutboxMessage
from qifu.notify.outbox import backoff, deliver_pending

from .fakes.aliyun_sms import AliyunSmsFake, expected_signature
from .fakes.dingtalk import DingTalkFake
from .fakes.smtp import SmtpServer

SENT, PENDING, FAILED = OutboxMessage.Status.SENT, OutboxMessage.Status.PENDING, OutboxMessage.Status.FAILED


@pytest.fixture(autouse=True)
def _fresh_adapters(settings):
    """Only the channels a test configures are used; tokens and warnings do not leak between tests."""
    settings.QIFU_SMS = {}
    settings.QIFU_DINGTALK = {}
    adapters._tokens.clear()
    adapters._warned.clear()
    yield
    adapters._tokens.clear()


@pytest.fixture
def sms(settings):
    with AliyunSmsFake() as fake:
        settings.QIFU_SMS = fake.settings()
        yield fake


@pytest.fixture
def ding(settings):
    with DingTalkFake() as fake:
        settings.QIFU_DINGTALK = fake.settings()
        yield fake


def use_smtp(settings, port: int) -> None:
    options = {"host": "127.0.0.1", "port": port, "timeout": 5}
    if django.VERSION >= (6, 1):
        settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": options}}
    else:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5


@pytest.fixture
def smtp(settings):
    with SmtpServer() as server:
        use_smtp(settings, server.port)
        yield server


def make_user(username: str, email: str = "", phone: str = "", dingtalk: str = "") -> User:
    user = User.objects.create_user(username, email=email, phone=phone, password="pw-12345")
    if dingtalk:
        DingTalkIdentity.objects.create(user=user, userid=dingtalk)
    return user


@pytest.fixture
def alice(db):
    return make_user("alice", email="alice@example.test", phone="13800000001", dingtalk="ding-alice")


@pytest.fixture
def bob(db):
    return make_user("bob", email="bob@example.test", phone="13800000002", dingtalk="ding-bob")


def outbox(**filters) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(**filters).order_by("id"))


def make_due(*messages) -> None:
    """Let time pass: the messages' next attempt is now."""
    OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).update(next_attempt_at=timezone.now())


# --- the outbox is written with the change, or not at all -----------------------------------


@pytest.mark.django_db
def test_inbox_and_outbox_rows_are_written_in_the_callers_transaction(alice, sms, ding,
                                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        with transaction.atomic():
            notify(alice, "appeal.assigned", "新诉求待办", "请在3个工作日内办结", url="/appeals/1/")
            # Inside the transaction everything is there, and nothing has been sent.
            assert Notification.objects.filter(recipient=alice).count() == 1
            assert {m.channel for m in outbox()} == {"email", "sms", "dingtalk"}
            assert callbacks == []
    assert len(callbacks) == 1  # delivery is deferred to the commit
    assert {(m.channel, m.address, m.status) for m in outbox()} == {
        ("email", "alice@example.test", PENDING), ("sms", "13800000001", PENDING), ("dingtalk", "ding-alice", PENDING),
    }
    assert sms.sent == [] and ding.sent == []


@pytest.mark.django_db
def test_a_rolled_back_transaction_leaves_no_notification_and_sends_nothing(alice, sms,
                                                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                notify(alice, "appeal.assigned", "新诉求待办", "…")
                raise RuntimeError("the change failed")
    assert callbacks == []
    assert Notification.objects.count() == 0 and OutboxMessage.objects.count() == 0
    assert sms.sent == []


@pytest.mark.django_db
def test_channels_without_an_address_or_an_adapter_get_no_rows(alice, caplog):
    nobody = make_user("nobody")  # no email, phone or DingTalk account
    with caplog.at_level("INFO", logger="qifu.notify"):
        notify([alice, nobody, alice], "e", "subject", "body")  # duplicates count once
        notify(alice, "e", "again", "body")
    assert Notification.objects.filter(recipient=alice).count() == 2
    assert Notification.objects.filter(recipient=nobody).count() == 1
    assert [m.channel for m in outbox()] == ["email", "email"]  # SMS and DingTalk are not configured
    warnings = [r.getMessage() for r in caplog.records if "not configured" in r.getMessage()]
    assert sorted(warnings) == [
        "notification channel dingtalk is not configured: nothing is sent through it",
        "notification channel sms is not configured: nothing is sent through it",
    ]  # once per channel, not once per call


@pytest.mark.django_db
def test_channels_can_be_narrowed_and_inactive_users_get_only_the_inbox(alice, bob, sms):
    bob.is_active = False
    bob.save()
    notify([alice, bob], "e", "仅短信", "body", channels=["sms"])
    assert [(m.channel, m.recipient) for m in outbox()] == [("sms", alice)]
    assert Notification.objects.filter(recipient=bob).count() == 1


@pytest.mark.django_db
def test_only_users_with_a_dingtalk_account_get_a_work_notification(alice, ding):
    plain = make_user("plain", email="plain@example.test")
    notify([alice, plain], "e", "subject", "body", channels=["dingtalk", "email"])
    assert sorted((m.recipient.username, m.channel) for m in outbox()) == [
        ("alice", "dingtalk"), ("alice", "email"), ("plain", "email")]


# --- delivery through each adapter against its fake -----------------------------------------


@pytest.mark.django_db
def test_email_is_sent_through_a_real_smtp_server(alice, smtp):
    notify(alice, "e", "诉求已受理", "您的诉求已受理。")
    assert deliver_pending() == 1
    [message] = outbox()
    assert message.status == SENT and message.sent_at and message.attempts == 1
    [received] = smtp.messages
    assert received["To"] == "alice@example.test" and received["Message-ID"] == message.external_id
    assert "诉求已受理" in str(received.get("Subject")) or received.get("Subject").startswith("=?utf-8?")


@pytest.mark.django_db
def test_an_unreachable_smtp_server_is_retried_later(alice, settings):
    use_smtp(settings, 9)  # nothing listens on the discard port
    notify(alice, "e", "subject", "body", channels=["email"])
    deliver_pending()
    [message] = outbox()
    assert message.status == PENDING and message.attempts == 1 and "Error" in message.last_error


@pytest.mark.django_db
def test_sms_is_sent_with_a_signature_the_service_accepts(alice, sms):
    notify(alice, "appeal.due", "诉求即将超期", "东方演示科技有限公司的诉求明天到期", channels=["sms"])
    assert deliver_pending() == 1
    [message] = outbox()
    assert message.status == SENT and sms.rejected == []
    [sent] = sms.sent
    assert sent["phone"] == "13800000001" and sent["out_id"] == str(message.pk)
    assert message.external_id == sent["biz_id"]
    assert sent["variables"]["subject"] == "诉求即将超期"


@pytest.mark.django_db
def test_the_sms_fake_refuses_a_wrong_secret_and_the_message_waits_for_a_retry(alice, sms, settings):
    settings.QIFU_SMS = sms.settings(access_key_secret="not-the-secret")
    notify(alice, "e", "subject", "body", channels=["sms"])
    deliver_pending()
    [message] = outbox()
    assert message.status == PENDING and message.last_error.startswith("SignatureDoesNotMatch")
    assert sms.sent == []


def test_the_signature_matches_alibaba_clouds_documented_example():
    params = {"AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML", "SignatureMethod": "HMAC-SHA1",
              "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "SignatureVersion": "1.0",
              "Timestamp": "2016-02-23T12:46:24Z", "Version": "2014-05-26"}
    assert adapters.rpc_signature("GET", params, "testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
    assert expected_signature("GET", params, "testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
    assert adapters.percent_encode("a b*c~d/中") == "a%20b%2Ac~d%2F%E4%B8%AD"


@pytest.mark.django_db
def test_dingtalk_work_notification_reuses_its_token_until_it_expires(alice, bob, ding):
    notify([alice, bob], "e", "工作通知", "请处理", channels=["dingtalk"])
    assert deliver_pending() == 2
    assert ding.token_requests == 1  # cached
    assert sorted(s["userids"][0] for s in ding.sent) == ["ding-alice", "ding-bob"]
    assert ding.sent[0]["content"] == "工作通知\n请处理"
    assert {m.external_id for m in outbox()} == {str(s["task_id"]) for s in ding.sent}

    ding.expire_tokens()  # expired before the cache says so: renewed once, then sent
    notify(alice, "e", "第二条", "", channels=["dingtalk"])
    assert deliver_pending() == 1
    assert ding.token_requests == 2 and ding.sent[-1]["content"] == "第二条"
    assert [r["errcode"] for r in ding.rejected] == [42001]


@pytest.mark.django_db
def test_dingtalk_refuses_a_wrong_appsecret(alice, ding, settings):
    settings.QIFU_DINGTALK = ding.settings(appsecret="wrong")
    notify(alice, "e", "工作通知", "", channels=["dingtalk"])
    deliver_pending()
    [message] = outbox()
    assert message.status == PENDING and "40089" in message.last_error and ding.sent == []


# --- retries ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_failed_send_is_retried_with_exponential_backoff(alice, sms, settings):
    settings.QIFU_NOTIFY_RETRY_SECONDS = 60
    sms.fail_next(2)
    notify(alice, "e", "subject", "body", channels=["sms"])

    before = timezone.now()
    assert deliver_pending() == 1
    [m] = outbox()
    assert (m.status, m.attempts) == (PENDING, 1) and m.last_error.startswith("isv.BUSINESS_LIMIT_CONTROL")
    minute = datetime.timedelta(seconds=60)
    assert before + minute - datetime.timedelta(seconds=1) <= m.next_attempt_at <= timezone.now() + minute
    assert deliver_pending() == 0  # not due yet

    make_due(m)
    before = timezone.now()
    deliver_pending()
    [m] = outbox()
    assert (m.status, m.attempts) == (PENDING, 2)
    assert m.next_attempt_at >= before + datetime.timedelta(seconds=119)  # doubled

    make_due(m)
    deliver_pending()
    [m] = outbox()
    assert (m.status, m.attempts, m.last_error) == (SENT, 3, "") and len(sms.sent) == 1


def test_backoff_doubles_and_is_capped(settings):
    settings.QIFU_NOTIFY_RETRY_SECONDS = 60
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert backoff(30) == datetime.timedelta(hours=1)


@pytest.mark.django_db
def test_a_message_fails_for_good_after_the_maximum_attempts(alice, sms, settings):
    settings.QIFU_NOTIFY_MAX_ATTEMPTS = 2
    sms.fail_next(5)
    notify(alice, "e", "subject", "body", channels=["sms"])
    deliver_pending()
    make_due(*outbox())
    deliver_pending()
    [m] = outbox()
    assert (m.status, m.attempts) == (FAILED, 2)
    make_due(m)
    assert deliver_pending() == 0 and sms.sent == []


# --- two deliverers, one send ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_deliverers_running_at_once_never_send_a_message_twice(sms):
    users = [make_user(f"u{i}", phone=f"139000000{i:02d}") for i in range(30)]
    # Rows as notify() writes them, without the delivery it defers after the commit.
    OutboxMessage.objects.bulk_create(
        OutboxMessage(channel="sms", recipient=u, address=u.phone, subject="并发", body="body") for u in users
    )
    start = threading.Barrier(2)
    claimed: list[int] = []

    def deliverer():
        start.wait()
        try:
            claimed.append(deliver_pending())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliverer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    jobs.wait_for_background()
    out_ids = [s["out_id"] for s in sms.sent]
    assert len(out_ids) == 30 and len(set(out_ids)) == 30
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(SENT, 1)}


@pytest.mark.django_db
def test_a_message_claimed_by_another_deliverer_is_left_alone(alice, sms):
    notify(alice, "e", "subject", "body", channels=["sms"])
    [m] = outbox()
    from qifu.notify.outbox import _claim

    assert _claim(m.pk, timezone.now()) is True  # the other deliverer
    assert _claim(m.pk, timezone.now()) is False
    assert deliver_pending() == 0 and sms.sent == []


# --- the periodic sweep ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_periodic_sweep_sends_what_was_left_behind(alice, sms):
    # The commit's delivery never ran (worker down, broker unreachable): the rows are still there.
    notify(alice, "e", "subject", "body", channels=["sms"])
    assert outbox(status=PENDING)
    assert "notify.deliver" in jobs.run_periodic_once()
    assert [m.status for m in outbox()] == [SENT] and len(sms.sent) == 1
    assert "notify.deliver" not in jobs.run_periodic_once()  # next in 30 s


# --- the inbox ---------------------------------------------------------------------------------


def _notes_for(user, *subjects):
    for i, subject in enumerate(subjects):
        Notification.objects.create(recipient=user, event="e", subject=subject, body="",
                                    created_at=timezone.now() - datetime.timedelta(minutes=10 - i))


@pytest.mark.django_db
def test_the_inbox_shows_only_ones_own_notifications_newest_first(client, alice, bob):
    _notes_for(alice, "较早的通知", "最新的通知")
    _notes_for(bob, "别人的通知")
    client.force_login(alice)
    page = client.get(reverse("inbox")).content.decode()
    assert page.index("最新的通知") < page.index("较早的通知") and "别人的通知" not in page
    assert page.count('class="fw-bold"') == 2
    assert 'data-testid="inbox-unread">2<' in page  # the nav badge


@pytest.mark.django_db
def test_marking_one_as_read_by_htmx_is_audited_and_others_are_404(client, alice, bob):
    _notes_for(alice, "mine")
    _notes_for(bob, "theirs")
    mine, theirs = Notification.objects.get(subject="mine"), Notification.objects.get(subject="theirs")
    client.force_login(alice)
    response = client.post(reverse("inbox_read", args=[mine.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "fw-bold" not in html and 'hx-swap-oob="true"' in html
    mine.refresh_from_db()
    assert mine.read_at is not None
    entry = AuditEntry.objects.filter(object_id=str(mine.pk), action="update").latest("id")
    assert entry.actor == alice and entry.before["read_at"] is None and entry.after["read_at"]
    assert client.post(reverse("inbox_read", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("inbox_read", args=[mine.pk])).status_code == 405
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.django_db
def test_mark_all_as_read(client, alice, bob):
    _notes_for(alice, "a", "b")
    _notes_for(bob, "c")
    client.force_login(alice)
    assert client.post(reverse("inbox_read_all")).status_code == 302
    assert not Notification.objects.filter(recipient=alice, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=bob, read_at__isnull=True).count() == 1
    page = client.get(reverse("inbox")).content.decode()
    assert 'class="fw-bold"' not in page and 'data-testid="read-one"' not in page


@pytest.mark.django_db
def test_the_inbox_needs_a_login(client):
    assert client.get(reverse("inbox")).status_code == 302


# --- the API -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_lists_and_marks_only_ones_own_notifications(client, alice, bob):
    from qifu.accounts.models import ApiToken

    _notes_for(alice, "older", "newer")
    _notes_for(bob, "theirs")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.objects.issue(alice)[1]}"}
    body = client.get("/api/v1/notifications", {"limit": 1}, **auth).json()
    assert body["count"] == 2 and [n["subject"] for n in body["items"]] == ["newer"]
    newer = body["items"][0]
    assert newer["read_at"] is None

    answer = client.post(f"/api/v1/notifications/{newer['id']}/read", **auth)
    assert answer.status_code == 200 and answer.json()["read_at"]
    assert client.get("/api/v1/notifications", {"unread": True}, **auth).json()["count"] == 1

    theirs = Notification.objects.get(subject="theirs")
    assert client.post(f"/api/v1/notifications/{theirs.pk}/read", **auth).status_code == 404
    assert AuditEntry.objects.filter(object_id=str(newer["id"]), action="update", source="api").exists()


# --- audit -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_notifications_are_audited_but_the_workers_bookkeeping_is_not(alice, sms):
    with acting_as(alice, "web"):
        notify(alice, "e", "subject", "body", channels=["sms"])
    [m] = outbox()
    created = AuditEntry.objects.filter(content_type__model="outboxmessage", object_id=str(m.pk), action="create")
    assert [e.actor for e in created] == [alice] and "status" not in created[0].after
    before = AuditEntry.objects.count()
    deliver_pending()
    assert outbox()[0].status == SENT and AuditEntry.objects.count() == before


@pytest.mark.django_db
def test_an_administrator_can_send_a_failed_message_again_and_that_is_audited(alice, sms, settings, admin_client,
                                                                            django_capture_on_commit_callbacks):
    settings.QIFU_NOTIFY_MAX_ATTEMPTS = 1
    sms.fail_next(1)
    notify(alice, "e", "subject", "body", channels=["sms"])
    deliver_pending()
    [m] = outbox()
    assert m.status == FAILED
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(reverse("admin:notify_outboxmessage_changelist"),
                                     {"action": "retry_now", "_selected_action": [m.pk]})
    assert response.status_code == 302 and len(callbacks) == 1  # delivery deferred
    m.refresh_from_db()
    assert (m.status, m.attempts) == (PENDING, 0)
    entry = AuditEntry.objects.filter(content_type__model="outboxmessage", object_id=str(m.pk)).latest("id")
    assert entry.before == {"status": "failed", "attempts": 1} and entry.actor.username == "admin"
    deliver_pending()
    assert outbox()[0].status == SENT and len(sms.sent) == 1

