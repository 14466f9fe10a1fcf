"""Every create, change and transition is recorded; nobody edits or deletes the record."""

import pytest
from django.db import connection, transaction

from qifu.accounts.models import Role
from qifu.audit.context import acting_as
from qifu.audit.models import AuditEntry, ImmutableError
from qifu.audit.trail import record
from qifu.enterprises.models import Enterprise, Tag

from .world import World, credit_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return World()


def entries_for(obj):
    return AuditEntry.objects.filter(object_id=str(obj.pk), object_repr=str(obj)).order_by("id")


def test_a_change_records_actor_before_and_after(world):
    admin = world.users[Role.ADMIN]
    with acting_as(admin, "web"):
        world.ent_east.name = "东方演示科技（改名）有限公司"
        world.ent_east.save()
    entry = AuditEntry.objects.filter(action="update", object_id=str(world.ent_east.pk)).latest("id")
    assert entry.actor == admin and entry.source == "web"
    assert entry.changes()["name"] == ("东方演示科技有限公司", "东方演示科技（改名）有限公司")


def test_saving_without_a_change_records_nothing(world):
    before = AuditEntry.objects.count()
    world.ent_east.save()
    assert AuditEntry.objects.count() == before


def test_creation_and_tag_changes_are_recorded(world):
    e = Enterprise.objects.create(region=world.region, uscc=credit_code(), name="标签演示有限公司")
    tag = Tag.objects.create(name="专精特新")
    e.tags.add(tag)
    actions = list(entries_for(e).values_list("action", flat=True))
    assert actions == ["create", "update"]
    assert entries_for(e).last().after == {"tags": [str(tag.pk)]}


def test_passwords_never_enter_the_trail(world):
    user = world.users[Role.FRONT_DESK]
    user.set_password("another-secret")
    user.save()
    for entry in AuditEntry.objects.filter(object_id=str(user.pk)):
        assert "password" not in (entry.after or {}) and "password" not in (entry.before or {})


def test_a_state_transition_can_be_recorded_explicitly(world):
    entry = record("transition", world.ent_east, {"status": "a"}, {"status": "b"}, note="why")
    assert entry.pk and entry.note == "why"


def test_entries_cannot_be_changed_or_deleted_through_the_application(world):
    entry = AuditEntry.objects.latest("id")
    entry.note = "tampered"
    with pytest.raises(ImmutableError):
        entry.save()
    with pytest.raises(ImmutableError):
        entry.delete()
    with pytest.raises(ImmutableError):
        AuditEntry.objects.update(note="tampered")
    with pytest.raises(ImmutableError):
        AuditEntry.objects.all().delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the database trigger exists on PostgreSQL")
def test_postgresql_refuses_to_change_entries_even_in_raw_sql(world):
    with pytest.raises(Exception, match="append-only: UPDATE refused"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE audit_auditentry SET note = 'x'")


def test_administrators_browse_the_trail_but_cannot_edit_it(client, world):
    admin = world.users[Role.ADMIN]
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    assert client.get("/admin/audit/auditentry/").status_code == 200
    entry = AuditEntry.objects.latest("id")
    page = client.get(f"/admin/audit/auditentry/{entry.pk}/change/")
    assert page.status_code == 200 and b'name="note"' not in page.content
    assert client.post(f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_other_staff_cannot_browse_the_trail(client, world):
    user = world.users[Role.SUPERVISOR]
    user.is_staff = True
    user.save()
    client.force_login(user)
    assert client.get("/admin/audit/auditentry/").status_code in (302, 403)
