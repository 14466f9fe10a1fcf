"""The audit trail and the event histories are append-only in the database and hash-chained:
`qifu audit verify` says all is well (exit 0) or names the first entries changed or removed (exit 1)."""

import io
import threading
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation

from qifu import cli
from qifu.accounts.models import Role
from qifu.appeals import workflow
from qifu.appeals.channels import ensure_default_channels
from qifu.appeals.models import Appeal, AppealEvent, Channel
from qifu.audit import chain, protect, trail
from qifu.audit.context import acting_as
from qifu.audit.models import AuditEntry, ChainHead
from qifu.enterprises.importer import import_enterprises
from qifu.enterprises.models import Tag
from qifu.lib import uscc
from qifu.policies import applications, services
from qifu.policies.models import ApplicationEvent, Policy, PolicyClause

from .world import World

PG = connection.vendor == "postgresql"
pg_only = pytest.mark.skipif(not PG, reason="PostgreSQL only")


@pytest.fixture
def world(transactional_db):
    """Committed rows: on PostgreSQL the audit trail's entries join the chain when their transaction commits."""
    ensure_default_channels()
    return World()


def verify(*args) -> tuple[int, str]:
    out = io.StringIO()
    with translation.override("en"):
        try:
            call_command("audit", "verify", *args, stdout=out)
        except CommandError as error:
            return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


def as_owner(sql: str, params=()) -> None:
    """What the owner of the database can still do: bypass the triggers (PostgreSQL: session_replication_role;
    SQLite: drop them) and change rows behind the application's back."""
    with transaction.atomic(), protect.suspended(connection), connection.cursor() as cursor:
        cursor.execute(sql, params)


def appeal_through(world, steps: int = 3) -> Appeal:
    """An appeal registered at the front desk and moved through `steps` events in all."""
    appeal, _ = workflow.register(actor=world.users[Role.FRONT_DESK], enterprise=world.ent_east,
                                  channel=Channel.objects.get(code="walk_in"), title="厂房消防验收咨询",
                                  description="需要哪些材料？", contact_phone="13800001234")
    moves = [("assign", Role.DISPATCHER, {"lead_department": "w-fgj", "category": "consult"}),
             ("reassign", Role.DISPATCHER, {"lead_department": "w-rsj", "reason": "职责调整"}),
             ("reassign", Role.DISPATCHER, {"lead_department": "w-fgj", "reason": "再次调整"})]
    for action, who, payload in moves:
        if appeal.version >= steps:
            break
        appeal = workflow.perform(appeal.pk, action, world.users[who], appeal.version, **payload)
    assert appeal.version == steps
    return appeal


def an_application(world):
    from .test_policies import YAML, _files

    services.import_yaml(YAML, world.region.code)
    for policy in Policy.objects.all():
        services.publish(policy)
    clause = PolicyClause.objects.get(code="W-RD-2")
    return applications.submit(clause, world.ent_east, world.users[Role.ENTERPRISE], _files(clause))


def entries():
    return list(AuditEntry.objects.order_by("chain_seq"))


def some_activity(world, n: int = 6):
    with acting_as(world.users[Role.ADMIN], "web"):
        for i in range(n):
            Tag.objects.create(name=f"标签{Tag.objects.count() + 1}")


# --- the database refuses ---------------------------------------------------------------------------------

def test_the_database_refuses_to_change_delete_or_empty_the_trail_and_the_events(world):
    appeal = appeal_through(world, 2)
    an_application(world)
    statements = ["UPDATE {t} SET note = 'x'", "DELETE FROM {t}"] + (["TRUNCATE {t} CASCADE"] if PG else [])
    for table in protect.append_only_tables():
        for sql in statements:
            with pytest.raises(DatabaseError, match=f"{table} is append-only: {sql.split()[0]} refused"):
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(sql.format(t=table))
    # and so an appeal with a history cannot be deleted (its events would go with it)
    with pytest.raises(DatabaseError, match="append-only: DELETE refused"):
        with transaction.atomic():
            Appeal.objects.filter(pk=appeal.pk).delete()
    assert AppealEvent.objects.filter(appeal=appeal).count() == 2
    assert verify()[0] == 0


# --- all is well --------------------------------------------------------------------------------------------

def test_every_entry_and_event_joins_its_chain_and_verify_says_all_is_well(world):
    appeal = appeal_through(world, 3)
    some_activity(world)
    rows = entries()
    assert [e.chain_seq for e in rows] == list(range(1, len(rows) + 1))
    assert rows[0].prev_hash == chain.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:]))
    head = ChainHead.objects.get(name="audit")
    assert (head.seq, head.hash) == (rows[-1].chain_seq, rows[-1].hash)
    events = list(appeal.events.order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3] and events[0].prev_hash == chain.GENESIS
    assert events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash

    code, out = verify()
    assert code == 0, out
    assert f"Audit trail: {len(rows)} entries verified (head: position {head.seq}, hash {head.hash}): intact" in out
    assert "Appeal events: 3 events of 1 subjects verified: intact" in out
    assert f"All well: {len(rows) + 3} entries and events verified" in out
    with translation.override("zh-hans"):
        out = io.StringIO()
        call_command("audit", "verify", stdout=out)
    assert f"审计日志：已验证 {len(rows)} 条记录" in out.getvalue() and "全部完好" in out.getvalue()


def test_a_note_given_as_a_lazy_translation_is_hashed_as_stored(world):
    from django.utils.translation import gettext_lazy

    with translation.override("zh-hans"):
        entry = trail.record("transition", world.region, note=gettext_lazy("changed by the user"))
    assert AuditEntry.objects.get(pk=entry.pk).note == "用户本人修改"
    assert verify()[0] == 0


def test_bulk_writers_join_the_chain_in_one_piece(world, tmp_path):
    rows = [f"{uscc.make('91', '350100', f'MA{i:06d}')},企业{i},地址{i},w-east,C2710,small,2020-01-01,标签{i % 3}"
            for i in range(40)]
    path = tmp_path / "e.csv"
    path.write_text("uscc,name,registered_address,jurisdiction,industry,size,registration_date,tags\n"
                    + "\n".join(rows) + "\n", encoding="utf-8")
    before = AuditEntry.objects.count()
    report = import_enterprises(path, world.region)
    assert report.ok and report.created == 40
    assert AuditEntry.objects.count() >= before + 40
    assert verify()[0] == 0
    assert [e.chain_seq for e in entries()] == list(range(1, AuditEntry.objects.count() + 1))


@pytest.mark.skipif(not PG, reason="threads writing at once: PostgreSQL (SQLite has one writer at a time)")
def test_concurrent_writers_never_fork_the_chain(world):
    region = world.region
    errors = []
    start = threading.Barrier(9)

    def writer(n):
        try:
            start.wait()
            for i in range(8):
                with transaction.atomic():
                    trail.record("transition", region, note=f"{n}-{i}-a")
                    time.sleep(0.003 * (n % 3))  # transactions overlap and commit in another order than they began
                    trail.record("transition", region, note=f"{n}-{i}-b")
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            connection.close()

    def bulk():
        try:
            start.wait()
            with transaction.atomic():
                AuditEntry.objects.bulk_create([trail.build("transition", region, note=f"bulk {i}") for i in range(300)])
                time.sleep(0.05)
        except Exception as e:  # noqa: BLE001
            errors.append(e)
        finally:
            connection.close()

    before = AuditEntry.objects.count()
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)] + [threading.Thread(target=bulk)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    total = AuditEntry.objects.count()
    assert total == before + 8 * 8 * 2 + 300
    assert [e.chain_seq for e in entries()] == list(range(1, total + 1))
    # each transaction's entries sit together, in the order they were written
    seqs = {e.note: e.chain_seq for e in AuditEntry.objects.filter(note__contains="-")}
    assert all(seqs[f"{n}-{i}-b"] == seqs[f"{n}-{i}-a"] + 1 for n in range(8) for i in range(8))
    code, out = verify()
    assert code == 0, out


@pytest.mark.skipif(not PG, reason="row locks and deferred checks: PostgreSQL")
def test_a_commit_waiting_for_a_locked_row_does_not_deadlock_on_the_chain(world):
    """T2 holds an appeal FOR UPDATE and commits while T1, committing, waits for that row (the deferred foreign
    key check of a rating): the chain is extended after T1's other checks, so T1 never holds it while waiting."""
    from qifu.appeals.models import Rating

    appeal = appeal_through(world, 3)
    locked, committing = threading.Event(), threading.Event()
    results = {}

    def t2():
        try:
            with transaction.atomic():
                Appeal.objects.select_for_update().get(pk=appeal.pk)
                trail.record("transition", appeal, note="t2")
                locked.set()
                committing.wait(5)
                time.sleep(0.3)  # T1 is inside its commit, waiting for the appeal
            results["t2"] = "ok"
        except Exception as e:  # noqa: BLE001 - reported below
            results["t2"] = repr(e)
        finally:
            connection.close()

    def t1():
        try:
            locked.wait(5)
            with transaction.atomic():
                trail.record("transition", world.region, note="t1")
                Rating.objects.create(appeal_id=appeal.pk, solved=True)
                committing.set()
            results["t1"] = "ok"
        except Exception as e:  # noqa: BLE001
            results["t1"] = repr(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=t2), threading.Thread(target=t1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {"t1": "ok", "t2": "ok"}
    assert verify()[0] == 0


@pytest.mark.skipif(not PG, reason="the chain is linked by the database: PostgreSQL")
def test_entries_are_linked_once_per_transaction_even_when_checked_early(db):
    """Django checks deferred constraints early (SET CONSTRAINTS ALL IMMEDIATE: loaddata, tests): the entries
    are linked then, by one request, not one per entry (which made linking quadratic)."""
    from qifu.org.models import Region

    region = Region.objects.create(code="x", name="x")

    def requests():  # rows inserted into the queue (the view may also count earlier transactions' not yet flushed)
        with connection.cursor() as cursor:
            cursor.execute("SELECT coalesce(sum(n_tup_ins), 0) FROM pg_stat_xact_user_tables "
                           "WHERE relname = %s", [protect.SEAL_QUEUE])
            return cursor.fetchone()[0]

    before = requests()

    def links_requested():
        return requests() - before

    AuditEntry.objects.bulk_create([trail.build("transition", region, note=str(i)) for i in range(300)])
    assert AuditEntry.objects.filter(hash__isnull=True).count() == 301  # the region's creation too
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert not AuditEntry.objects.filter(hash__isnull=True).exists() and links_requested() == 1
    trail.record("transition", region, note="later")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert not AuditEntry.objects.filter(hash__isnull=True).exists() and links_requested() == 2
    assert list(AuditEntry.objects.order_by("chain_seq").values_list("chain_seq", flat=True)) == list(range(1, 303))


@pg_only
def test_a_commit_reads_its_own_entries_from_its_first_one_on(world):
    """The seal at commit starts at the transaction's first entry (issue 10: it used to read every entry an index
    of unlinked ones still held — all those linked since the last VACUUM — on every commit): an entry unlinked
    behind the triggers' back long ago is not picked up by a later commit; verify names it."""
    some_activity(world, 2)
    oldest = AuditEntry.objects.order_by("id").first()
    as_owner("UPDATE audit_auditentry SET hash = NULL, prev_hash = NULL, chain_seq = NULL WHERE id = %s",
             [oldest.pk])
    some_activity(world, 2)
    assert AuditEntry.objects.get(pk=oldest.pk).hash is None
    assert not AuditEntry.objects.filter(hash__isnull=True).exclude(pk=oldest.pk).exists()
    assert verify()[0] == 1


# --- what verify finds ----------------------------------------------------------------------------------------

def test_a_changed_entry_is_reported_with_its_id_and_the_exit_status_is_1(world):
    some_activity(world)
    rows = entries()
    victim = rows[len(rows) // 2]
    as_owner("UPDATE audit_auditentry SET note = 'nothing happened' WHERE id = %s", [victim.pk])
    code, out = verify()
    assert code == 1
    problems = [line for line in out.splitlines() if "was changed" in line or "removed" in line]
    assert problems[0] == (f"Audit entry {victim.pk} (position {victim.chain_seq}) was changed: its content no "
                           "longer matches its hash.")
    assert "1 problem(s)" in out
    with pytest.raises(SystemExit) as exit_:  # the real command line
        cli.main(["audit", "verify"])
    assert exit_.value.code == 1


def test_an_entry_rewritten_with_fresh_hashes_is_still_reported(world):
    some_activity(world)
    rows = entries()
    victim = rows[2]
    forged = chain.audit_digest(at=victim.at, actor_id=victim.actor_id, actor_username="someone else",
                                source=victim.source, action=victim.action,
                                content_type=chain.content_type_label(victim.content_type_id),
                                object_id=victim.object_id, object_repr=victim.object_repr, before=victim.before,
                                after=victim.after, note=victim.note)
    as_owner("UPDATE audit_auditentry SET actor_username = 'someone else', digest = %s, hash = %s WHERE id = %s",
             [forged, chain.link(victim.prev_hash, forged), victim.pk])
    code, out = verify()
    assert code == 1
    assert (f"Audit entry {victim.pk} (position {victim.chain_seq}) was changed: the entry after it no longer "
            "links to it.") in out


def test_a_removed_entry_is_reported_where_it_was(world):
    some_activity(world)
    rows = entries()
    gone, after = rows[3], rows[4]
    as_owner("DELETE FROM audit_auditentry WHERE id = %s", [gone.pk])
    code, out = verify()
    assert code == 1
    assert (f"Audit entries were removed: position {gone.chain_seq} is missing, before entry {after.pk} "
            f"(position {after.chain_seq}).") in out


def test_removing_the_newest_entries_is_reported(world):
    some_activity(world)
    rows = entries()
    as_owner("DELETE FROM audit_auditentry WHERE chain_seq >= %s", [rows[-2].chain_seq])
    code, out = verify()
    assert code == 1
    assert (f"The newest audit entries were removed: the chain ends at position {rows[-3].chain_seq}, its head says "
            f"{rows[-1].chain_seq}.") in out


def test_an_anchor_kept_outside_catches_a_rewritten_trail(world):
    some_activity(world)
    rows = entries()
    anchor = f"{rows[2].chain_seq}:{rows[2].hash}"
    assert verify("--anchor", anchor)[0] == 0
    # the owner rewrites the whole chain consistently from position 3 on: only the anchor can tell
    for row in rows[2:]:
        as_owner("UPDATE audit_auditentry SET note = %s WHERE id = %s", [f"rewritten {row.pk}", row.pk])
    prev = rows[1].hash
    for row in AuditEntry.objects.filter(chain_seq__gte=rows[2].chain_seq).order_by("chain_seq"):
        digest = chain.digest_audit_entry(row)
        as_owner("UPDATE audit_auditentry SET digest = %s, prev_hash = %s, hash = %s WHERE id = %s",
                 [digest, prev, chain.link(prev, digest), row.pk])
        prev = chain.link(prev, digest)
    as_owner("UPDATE audit_chainhead SET hash = %s WHERE name = 'audit'", [prev])
    assert verify()[0] == 0  # a consistent rewrite by the owner…
    code, out = verify("--anchor", anchor)
    assert code == 1 and f"Position {rows[2].chain_seq} (entry {rows[2].pk}) no longer has the hash" in out


def test_changed_and_removed_events_are_reported_per_appeal(world):
    changed, middle, newest = appeal_through(world, 3), appeal_through(world, 3), appeal_through(world, 3)
    step2 = changed.events.get(seq=2)
    as_owner("UPDATE appeals_appealevent SET note = '改过' WHERE id = %s", [step2.pk])
    as_owner("DELETE FROM appeals_appealevent WHERE appeal_id = %s AND seq = 2", [middle.pk])
    as_owner("DELETE FROM appeals_appealevent WHERE appeal_id = %s AND seq = 3", [newest.pk])
    code, out = verify()
    assert code == 1
    assert (f"Appeal event {step2.pk} (appeal {changed.number}, step 2) was changed: its content no longer matches "
            "its hash.") in out
    assert f"Appeal event of appeal {middle.number}: step 2 was removed." in out
    assert (f"The newest appeal events of appeal {newest.number} were removed: it is at version 3, its last event is "
            "step 2.") in out
    assert "Appeal events: 7 events of 3 subjects verified: 3 problem(s)" in out


def test_a_changed_application_event_is_reported(world):
    application = an_application(world)
    event = ApplicationEvent.objects.get(application=application, seq=1)
    assert verify()[0] == 0
    as_owner("UPDATE policies_applicationevent SET data = '{\"amount\": \"9999999\"}' WHERE id = %s", [event.pk])
    code, out = verify()
    assert code == 1
    assert f"Application event {event.pk} (application #{application.pk}, step 1) was changed" in out


def test_a_switched_off_protection_and_what_was_changed_meanwhile_are_reported(world):
    """The owner disables the trigger (SQLite: drops it) and changes an event: both are reported; `migrate`
    puts the protection back, the changed event stays reported."""
    appeal = appeal_through(world, 3)
    event = appeal.events.get(seq=2)
    table = "appeals_appealevent"
    with connection.cursor() as cursor:
        if PG:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER qifu_append_only")
            protection = f"The protection qifu_append_only of table {table} is disabled."
        else:
            cursor.execute(f'DROP TRIGGER "qifu_append_only_{table}_update"')
            protection = f"The protection qifu_append_only_{table}_update of table {table} is missing."
        cursor.execute(f"UPDATE {table} SET note = '没改过' WHERE id = %s", [event.pk])
    changed = (f"Appeal event {event.pk} (appeal {appeal.number}, step 2) was changed: its content no longer matches "
               "its hash.")
    code, out = verify()
    assert code == 1 and protection in out and changed in out
    call_command("migrate", verbosity=0)
    code, out = verify()
    assert code == 1 and protection not in out and changed in out and "1 problem(s)" in out


# --- existing rows, restores -----------------------------------------------------------------------------------

def test_the_migration_links_the_rows_written_before_it(world):
    appeal_through(world, 3)
    some_activity(world)
    count, events = AuditEntry.objects.count(), AppealEvent.objects.count()
    executor = MigrationExecutor(connection)
    executor.migrate([("audit", "0003_sign_in_actions"), ("appeals", "0003_appeal_idempotency_hash"),
                      ("policies", "0001_initial")])
    with connection.cursor() as cursor:  # rows written by the old code, without a chain
        cursor.execute("SELECT count(*) FROM audit_auditentry")
        assert cursor.fetchone()[0] == count
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    rows = list(AuditEntry.objects.order_by("id"))
    assert [e.chain_seq for e in rows] == list(range(1, count + 1))  # in the order they were written
    assert AppealEvent.objects.filter(hash__isnull=False).count() == events
    code, out = verify()
    assert code == 0, out
    some_activity(world, 2)  # and the chain goes on from there
    assert verify()[0] == 0 and AuditEntry.objects.order_by("-chain_seq").first().chain_seq == count + 2
    assert protect.trigger_problems(connection) == []


def test_a_restore_that_only_inserts_passes_the_triggers_and_verifies(world):
    """How `qifu restore` writes a backup back: raw INSERTs of the rows as they were, nothing re-audited."""
    appeal_through(world, 3)
    some_activity(world)
    models = [AuditEntry, ChainHead, AppealEvent]
    saved = {m: [m(**row) for row in m._base_manager.values(*[f.attname for f in m._meta.concrete_fields])]
             for m in models}
    head = ChainHead.objects.get(name="audit")
    for model in models:
        as_owner(f"DELETE FROM {model._meta.db_table}")
    assert AuditEntry.objects.count() == 0
    with transaction.atomic():
        for model, rows in saved.items():
            model._base_manager._insert(rows, fields=model._meta.concrete_fields, raw=True)
    assert verify()[0] == 0
    some_activity(world, 1)
    assert AuditEntry.objects.order_by("-chain_seq").first().chain_seq == head.seq + 1
    assert verify()[0] == 0
