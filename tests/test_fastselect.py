"""The intake's statements built once (qifu/lib/fastselect.py, issue 10 item 2): the same rows as the ORM, the same
scope as `scopes.enterprises`, the same recipients as before, prepared once per connection on PostgreSQL."""

import datetime

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from qifu.accounts import scopes
from qifu.accounts.models import Role, User
from qifu.appeals import notifications
from qifu.appeals.channels import ensure_default_channels
from qifu.appeals.models import Channel
from qifu.enterprises.models import Enterprise
from qifu.lib import fastselect

from .world import World, credit_code


@pytest.fixture
def world(db):
    ensure_default_channels()
    return World()


def fields_of(obj):
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_rows_are_the_orms_rows_with_the_joined_ones_cached(world):
    found = fastselect.first(Enterprise, "t.uscc = %s", [world.ent_west.uscc], related=("region",))
    orm = Enterprise.objects.select_related("region").get(pk=world.ent_west.pk)
    assert fields_of(found) == fields_of(orm)
    with CaptureQueriesContext(connection) as seen:  # the region came with the row: no query for it
        assert found.region.code == world.region.code
    assert not seen.captured_queries
    assert fastselect.first(Enterprise, "t.uscc = %s", [credit_code(999)]) is None
    both = fastselect.rows(Enterprise, "t.region_id = %s", [world.region.pk], tail="ORDER BY t.id")
    assert [e.pk for e in both] == [world.ent_east.pk, world.ent_west.pk]


def test_converted_values_keep_their_types(world):
    user = world.users[Role.ADMIN]
    read = fastselect.first(User, "t.id = %s", [user.pk])
    assert fields_of(read) == fields_of(User.objects.get(pk=user.pk))
    assert isinstance(read.date_joined, datetime.datetime) and read.date_joined.tzinfo is not None


def test_an_open_channel_only(world):
    assert Channel.open_by_code("walk_in").code == "walk_in"
    Channel.objects.filter(code="walk_in").update(active=False)
    assert Channel.open_by_code("walk_in") is None
    assert Channel.open_by_code("no-such-channel") is None


def test_sees_enterprise_is_the_scope_of_enterprises_for_every_kind_of_user(world):
    inactive = User.objects.create_user("w-gone", password="pw-12345", region=world.region, is_active=False)
    inactive.grant(Role.DISPATCHER)
    no_role = User.objects.create_user("w-nobody", password="pw-12345", region=world.region)
    other = World("o")
    users = [*world.users.values(), world.station_user, world.west_user, inactive, no_role, *other.users.values()]
    enterprises = [world.ent_east, world.ent_west, other.ent_east, other.ent_west]
    decided = 0
    for user in users:
        user = User.objects.get(pk=user.pk)  # as a request loads it
        for enterprise in enterprises:
            expected = scopes.enterprises(user).filter(pk=enterprise.pk).exists()
            assert scopes.sees_enterprise(user, enterprise) is expected, (user.username, enterprise.name)
            decided += expected
    assert 0 < decided < len(users) * len(enterprises)
    assert scopes.sees_enterprise(world.users[Role.ADMIN], None) is False


def test_recipients_hold_the_role_and_are_active(world):
    handler = world.users[Role.HANDLER]
    second = User.objects.create_user("w-handler-2", password="pw-12345", region=world.region, department=world.dept)
    second.grant(Role.HANDLER)
    not_handler = User.objects.create_user("w-clerk-2", password="pw-12345", region=world.region,
                                           department=world.dept)
    not_handler.grant(Role.FRONT_DESK)
    gone = User.objects.create_user("w-handler-3", password="pw-12345", region=world.region, department=world.dept,
                                    is_active=False)
    gone.grant(Role.HANDLER)
    assert [u.pk for u in notifications._department_handlers([world.dept.pk, world.other_dept.pk, None])] == \
        [handler.pk, second.pk]
    assert notifications._department_handlers([]) == []
    assert [u.pk for u in notifications._enterprise_users(type("A", (), {"enterprise_id": world.ent_east.pk}))] == \
        [world.users[Role.ENTERPRISE].pk]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")
def test_statements_are_prepared_once_per_connection_on_postgresql(world):
    def prepared():
        with connection.cursor() as c:
            c.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                      ['%FROM "appeals_channel" t%'])
            return c.fetchone()[0]

    before = prepared()
    for _ in range(3):
        assert Channel.open_by_code("walk_in") is not None
    assert prepared() == before + 1
    with override_settings(QIFU_DB_PREPARE=False):  # behind a pooler: plain statements, same answers
        assert fastselect.first(Channel, "t.code = %s AND t.active AND t.id > %s", ["walk_in", 0]).code == "walk_in"
    assert prepared() == before + 1


def test_values_passed_through_unchanged_are_those_django_would_write(world):
    """fastinsert skips the adaptation of a str/int/bool/None for plain fields: it must be what
    get_db_prep_save gives (same value, same type) for every field so planned, on this backend."""
    from qifu.appeals.models import Appeal, AppealEvent
    from qifu.audit.models import AuditEntry
    from qifu.lib import fastinsert

    samples = {str: ["", "厂房消防验收", "0"], bool: [True, False], type(None): [None]}
    checked = 0
    for model in (Appeal, AppealEvent, AuditEntry, User):
        for field, plain in fastinsert._plan(model):
            for kind in plain or ():
                for value in samples[kind]:
                    if value is None and not field.null:
                        continue
                    full = field.get_db_prep_save(value, connection)
                    assert full == value and type(full) is type(value), (model.__name__, field.name, value)
                    checked += 1
    assert checked > 50


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ids drawn beforehand, one statement: PostgreSQL")
def test_rows_of_several_tables_in_one_statement_with_ids_drawn_before(world):
    """fastinsert.next_ids / insert_together (the intake's last writes): rows given their ids keep them, the
    others get theirs back, and the audit entries that name them are the ones written."""
    from qifu.audit import trail
    from qifu.audit.models import AuditEntry
    from qifu.lib import fastinsert
    from qifu.notify.models import Notification

    user = world.users[Role.ENTERPRISE]
    drawn, none = fastinsert.next_ids([(Notification, 2), (Notification, 0)])
    assert len(drawn) == 2 and drawn[0] < drawn[1] and none == []
    notes = [Notification(pk=pk, recipient=user, event="t", subject=f"第{i}条", body="", url="")
             for i, pk in enumerate(drawn)]
    entries = [trail.build("create", note, None, trail.snapshot(note)) for note in notes]
    with CaptureQueriesContext(connection) as seen:
        AuditEntry.objects.bulk_create_with(entries, [(Notification, notes)])
    assert len(seen.captured_queries) == 1
    assert [n.pk for n in notes] == drawn
    assert list(Notification.objects.filter(pk__in=drawn).order_by("pk").values_list("subject", flat=True)) == \
        ["第0条", "第1条"]
    assert all(e.pk for e in entries)
    stored = AuditEntry.objects.filter(pk__in=[e.pk for e in entries]).order_by("pk")
    assert [e.object_id for e in stored] == [str(pk) for pk in drawn]
    assert all(e.digest for e in stored)
