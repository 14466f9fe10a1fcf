"""Hash chains over the append-only tables: what an entry's hash covers and how entries are linked.

Every row stores three things:

* ``digest`` — SHA-256 of the row's canonical content (computed here, in Python, before the INSERT);
* ``prev_hash`` — the ``hash`` of the entry before it in its chain (``GENESIS`` for the first);
* ``hash`` — ``link(prev_hash, digest)`` = SHA-256 of the two, as bytes.

Two kinds of chain (docs/decisions.md says why):

* the **audit trail** is one chain over every entry, in the order the entries were committed
  (``chain_seq`` 1, 2, 3, …). On PostgreSQL the database links the entries when their transaction
  commits (the deferred trigger ``qifu_audit_seal``, see protect.py), so two transactions never fork
  the chain and nobody waits for the chain while doing their work; on SQLite, where one writer holds
  the database at a time anyway, ``models._link_in_python`` links them in Python before the INSERT.
  ``audit_chainhead`` holds the position and hash of the last entry, so removing the newest entries
  is noticed as well.
* every **subject with a state machine** (an appeal, an application — all ``TransitionEvent``
  tables) has a chain of its own, in ``seq`` order: its events are already serialised by the
  subject's row lock and the unique (subject, seq) constraint; its ``version`` is the last ``seq``.

The canonical content is FROZEN: changing what goes into a digest makes every stored chain fail to
verify. A new field goes into a new version of the prefix (``qifu.audit.v2``) with a data migration.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import json
from collections.abc import Iterable

from django.utils.functional import Promise

GENESIS = "0" * 64
AUDIT_CHAIN = "audit"  # the name of the audit trail's row in audit_chainhead


# --- canonical content --------------------------------------------------------------------------

def _number(text: str):
    """Numbers as a JSON column gives them back: PostgreSQL's jsonb keeps them as decimals, so the float
    1e+30 comes back as the integer 10**30 and 2.0 may come back as 2. One value, one spelling."""
    value = decimal.Decimal(text)
    if value.is_finite() and value == value.to_integral_value():
        return int(value)
    return float(text)


def _has_float(value) -> bool:
    kind = type(value)
    if kind is float:
        return True
    if kind is dict:
        value = value.values()
    elif kind is not list and kind is not tuple:
        return False
    for item in value:
        kind = type(item)
        if kind is float or ((kind is dict or kind is list or kind is tuple) and _has_float(item)):
            return True
    return False


def canonical(value) -> str:
    """JSON with sorted keys, no spaces, and one spelling per number (whole numbers as integers), as a
    JSON column gives it back: tuples as lists, keys as strings."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    if not _has_float(value):
        return text
    return json.dumps(json.loads(text, parse_float=_number), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_MICROSECOND = datetime.timedelta(microseconds=1)


def _time(value: datetime.datetime | None) -> int | None:
    """Microseconds since 1970-01-01 UTC (what both databases store, whatever the time zone)."""
    if value is None:
        return None
    if value.tzinfo is None:  # stored as Django stores a naive time: in the default time zone
        from django.utils import timezone

        value = timezone.make_aware(value, timezone.get_default_timezone())
    return (value - _EPOCH) // _MICROSECOND


def _digest(kind: str, content: dict) -> str:
    return hashlib.sha256(f"qifu.{kind}.v1\n{canonical(content)}".encode()).hexdigest()


def audit_digest(*, at, actor_id, actor_username, source, action, content_type: str, object_id, object_repr,
                 before, after, note) -> str:
    """The digest of one audit entry. ``content_type`` is "app_label.model" (not the id, which a restore
    into another database may change)."""
    return _digest("audit", {
        "at": _time(at), "actor": actor_id, "actor_username": actor_username, "source": source, "action": action,
        "content_type": content_type, "object_id": object_id, "object_repr": object_repr,
        "before": before, "after": after, "note": note,
    })


def event_digest(*, subject: str, subject_id, seq, action, actor_id, at, from_status, to_status, note,
                 data) -> str:
    """The digest of one event of a state machine; ``subject`` is "app_label.model" of what it belongs to."""
    return _digest("event", {
        "subject": subject, "subject_id": subject_id, "seq": seq, "action": action, "actor": actor_id,
        "at": _time(at), "from": from_status, "to": to_status, "note": note, "data": data,
    })


def link(prev_hash: str, digest: str) -> str:
    """An entry's hash: SHA-256 over the previous entry's hash and this entry's digest (32 + 32 bytes).
    The PostgreSQL trigger computes the same: sha256(decode(prev, 'hex') || decode(digest, 'hex'))."""
    return hashlib.sha256(bytes.fromhex(prev_hash) + bytes.fromhex(digest)).hexdigest()


def safe_link(prev_hash: str | None, digest: str | None) -> str | None:
    try:
        return link(prev_hash or "", digest or "")
    except ValueError:
        return None


# --- content of model rows ----------------------------------------------------------------------

AUDIT_FIELDS = ("at", "actor_id", "actor_username", "source", "action", "content_type_id", "object_id",
                "object_repr", "before", "after", "note")
EVENT_FIELDS = ("seq", "action", "actor_id", "at", "from_status", "to_status", "note", "data")


def content_type_label(content_type_id: int) -> str:
    """"app_label.model" of a content type id (cached by Django)."""
    from django.contrib.contenttypes.models import ContentType

    ct = ContentType.objects.get_for_id(content_type_id)
    return f"{ct.app_label}.{ct.model}"


def audit_row_digest(row: dict, labels: dict[int, str]) -> str:
    """``row``: AUDIT_FIELDS as a dict (e.g. from .values()); ``labels``: content type id → label."""
    return audit_digest(
        at=row["at"], actor_id=row["actor_id"], actor_username=row["actor_username"], source=row["source"],
        action=row["action"], content_type=labels.get(row["content_type_id"], f"#{row['content_type_id']}"),
        object_id=row["object_id"], object_repr=row["object_repr"], before=row["before"], after=row["after"],
        note=row["note"],
    )


def subject_field(model) -> str:
    """The foreign key that names what an event belongs to (AppealEvent.appeal, ApplicationEvent.application)."""
    fields = [f for f in model._meta.concrete_fields if f.many_to_one and f.name != "actor"]
    if len(fields) != 1:
        raise TypeError(f"{model.__name__}: expected exactly one foreign key besides actor")
    return fields[0].name


def event_row_digest(model, row: dict, subject_id) -> str:
    subject = model._meta.get_field(subject_field(model)).related_model._meta.label_lower
    return event_digest(subject=subject, subject_id=subject_id, seq=row["seq"], action=row["action"],
                        actor_id=row["actor_id"], at=row["at"], from_status=row["from_status"],
                        to_status=row["to_status"], note=row["note"], data=row["data"])


def _as_stored(value):
    """A lazy translation is stored as the text it has now (the field's get_prep_value does str())."""
    return str(value) if isinstance(value, Promise) else value


def digest_audit_entry(entry) -> str:
    row = {name: _as_stored(getattr(entry, name)) for name in AUDIT_FIELDS}
    return audit_row_digest(row, {entry.content_type_id: content_type_label(entry.content_type_id)})


def digest_event(event) -> str:
    row = {name: _as_stored(getattr(event, name)) for name in EVENT_FIELDS}
    return event_row_digest(type(event), row, getattr(event, subject_field(type(event)) + "_id"))


# --- linking new rows ---------------------------------------------------------------------------

def seal_events(events: Iterable, using: str) -> None:
    """Digest and link new events of a state machine: each to the event before it of the same subject
    (seq - 1). Concurrent writers cannot fork a subject's chain: the subject row is locked while its
    next event is written and (subject, seq) is unique."""
    events = list(events)
    if not events:
        return
    model = type(events[0])
    subject = subject_field(model) + "_id"
    known: dict[tuple, str] = {}
    for event in sorted(events, key=lambda e: (getattr(e, subject), e.seq)):
        sid = getattr(event, subject)
        prev = GENESIS
        if event.seq > 1:
            prev = known.get((sid, event.seq - 1)) or model._default_manager.using(using).filter(
                **{subject: sid, "seq": event.seq - 1}).values_list("hash", flat=True).first() or GENESIS
        event.digest = digest_event(event)
        event.prev_hash = prev
        event.hash = link(prev, event.digest)
        known[(sid, event.seq)] = event.hash


# --- rows written before the chain existed (the data migrations) ------------------------------------

BACKFILL_BATCH = 2000


def _update_rows(connection, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    qn = connection.ops.quote_name
    assignments = ", ".join(f"{qn(c)} = %s" for c in columns)
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {qn(table)} SET {assignments} WHERE id = %s", rows)


def backfill_audit(AuditEntry, ContentType, ChainHead, connection) -> int:
    """Link the existing audit entries, in id order, and set the head (historical models). The caller
    suspends the append-only triggers. Returns the number of entries."""
    labels = {ct.pk: f"{ct.app_label}.{ct.model}" for ct in ContentType.objects.all()}
    seq, prev, last_id = 0, GENESIS, 0
    while True:
        rows = list(AuditEntry.objects.filter(id__gt=last_id).order_by("id").values("id", *AUDIT_FIELDS)
                    [:BACKFILL_BATCH])
        if not rows:
            break
        updates = []
        for row in rows:
            digest = audit_row_digest(row, labels)
            seq += 1
            updates.append((digest, seq, prev, link(prev, digest), row["id"]))
            prev = updates[-1][3]
        _update_rows(connection, AuditEntry._meta.db_table, ("digest", "chain_seq", "prev_hash", "hash"), updates)
        last_id = rows[-1]["id"]
    if seq:  # an empty trail needs no head (a freshly migrated database holds no rows of its own)
        ChainHead.objects.update_or_create(name=AUDIT_CHAIN, defaults={"seq": seq, "hash": prev})
    return seq


def backfill_events(Event, connection) -> int:
    """Link the existing events of every subject in seq order (historical model). The caller suspends
    the append-only triggers. Returns the number of events."""
    subject = subject_field(Event) + "_id"
    count, last, prev = 0, (0, 0), {}
    while True:
        rows = list(Event.objects.filter(**{f"{subject}__gte": last[0]})
                    .exclude(**{subject: last[0], "seq__lte": last[1]})
                    .order_by(subject, "seq").values("id", subject, *EVENT_FIELDS)[:BACKFILL_BATCH])
        if not rows:
            break
        updates = []
        for row in rows:
            sid = row[subject]
            before = prev.get(sid, GENESIS) if row["seq"] > 1 else GENESIS
            digest = event_row_digest(Event, row, sid)
            updates.append((digest, before, link(before, digest), row["id"]))
            prev = {sid: updates[-1][2]}
        _update_rows(connection, Event._meta.db_table, ("digest", "prev_hash", "hash"), updates)
        count += len(rows)
        last = (rows[-1][subject], rows[-1]["seq"])
    return count
