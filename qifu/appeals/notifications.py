"""Who hears about what happens to an appeal. Delivered through qifu.notify's outbox (same transaction)."""

from django.utils.translation import gettext as _

from qifu.accounts.models import Role, RoleGrant, User
from qifu.lib import fastselect

from .models import AppealEvent, Status


def _holders(role: str, column: str, ids) -> list:
    """The active users holding `role` whose `column` (enterprise_id, department_id, region_id) is one of `ids`,
    by id — one statement built once per column and count (`fastselect`: the intake tells someone every time)."""
    ids = sorted({i for i in ids if i is not None})
    if not ids:
        return []
    grants = RoleGrant._meta.db_table
    return fastselect.rows(User, f"t.is_active AND t.{column} IN ({', '.join(['%s'] * len(ids))}) AND EXISTS "
                                 f"(SELECT 1 FROM {grants} g WHERE g.user_id = t.id AND g.role = %s)",
                           [*ids, role], tail="ORDER BY t.id")


def _enterprise_users(appeal):
    return _holders(Role.ENTERPRISE, "enterprise_id", [appeal.enterprise_id])


def _department_handlers(department_ids):
    return _holders(Role.HANDLER, "department_id", department_ids)


def _dispatchers(appeal):
    return _holders(Role.DISPATCHER, "region_id", [appeal.region_id])


def recipients_and_message(appeal, event: AppealEvent, users: list | None = None):
    """(users — a list, subject, body) for an event, or None when nobody needs telling. `users`: the audience
    read earlier (`audience`), not read again."""
    n = appeal.number

    def who(find) -> list:
        return list(users) if users is not None else find()

    if event.action == "submit" and event.to_status == Status.SUBMITTED and appeal.created_by and \
            appeal.created_by.has_role(Role.ENTERPRISE):
        return who(lambda: _dispatchers(appeal)), _("New online appeal %(n)s") % {"n": n}, appeal.title
    if event.action == "accept":
        return (who(lambda: _enterprise_users(appeal)), _("Appeal %(n)s accepted") % {"n": n},
                _("“%(title)s” was accepted; answer due by %(due)s.") % {
                    "title": appeal.title, "due": appeal.due_at.strftime("%Y-%m-%d") if appeal.due_at else "—"})
    if event.action in ("assign", "reassign"):
        ids = [appeal.lead_department_id, *event.data.get("assisting_departments", [])]
        return (who(lambda: _department_handlers(ids)), _("Appeal %(n)s assigned to your department") % {"n": n},
                appeal.title)
    if event.action == "request_input":
        return (who(lambda: _department_handlers(appeal.assisting_departments.values_list("pk", flat=True))),
                _("Input requested on appeal %(n)s") % {"n": n}, event.data["text"])
    if event.action == "mark_handled":
        return (who(lambda: _enterprise_users(appeal)), _("Appeal %(n)s handled: please confirm") % {"n": n},
                appeal.reply)
    if event.action == "escalate":
        from . import escalation

        body = escalation.body_for_level(appeal.region, event.data["to_level"])
        return (who(lambda: list(escalation.deciders(body)) if body else []),
                _("Appeal %(n)s: escalation to %(body)s requested") % {"n": n, "body": body.name if body else "—"},
                event.data.get("reason", ""))
    if event.action == "decide_escalation":
        def deciders_and_requester():
            requested = appeal.events.filter(action="escalate").order_by("-seq").first()
            found = _department_handlers([appeal.lead_department_id])
            if requested and requested.actor_id:
                found += list(User.objects.filter(pk=requested.actor_id))
            return found

        subject = (_("Appeal %(n)s escalated to level %(level)s") % {"n": n, "level": event.data.get("level")}
                   if event.data.get("approve") else _("Appeal %(n)s: escalation refused, assigned again") % {"n": n})
        return who(deciders_and_requester), subject, event.note
    if event.action == "reject_result":
        return (who(lambda: _department_handlers([appeal.lead_department_id])),
                _("Enterprise not satisfied with appeal %(n)s") % {"n": n}, event.data.get("comment", ""))
    if event.action == "revisit_reopen" and appeal.lead_department_id:
        return (who(lambda: _department_handlers([appeal.lead_department_id])),
                _("Revisit: enterprise not satisfied, appeal %(n)s reopened") % {"n": n}, event.data.get("comment", ""))
    return None


def audience(appeal, event: AppealEvent) -> list:
    """Who hears about `event` — the queries only: the intake reads them before it numbers the appeal (whose
    number the message names), and hands them to `after`."""
    message = recipients_and_message(appeal, event)
    return message[0] if message else []


def after(appeal, event: AppealEvent | None, audit: list | None = None, users: list | None = None, ids=None,
          rows: list | None = None) -> None:
    """Notify those who hear about `event`; `audit`, `ids`, `rows`: see qifu.notify.outbox.notify; `users`: from
    `audience`."""
    if event is None:
        return
    message = recipients_and_message(appeal, event, users)
    if message is None:
        return
    users, subject, body = message  # a list; notify drops a user named twice
    if not users:
        return
    try:
        from qifu.notify import notify
    except ImportError:  # notifications app not installed
        return
    notify(users, f"appeal.{event.action}", subject, body, url=f"/appeals/{appeal.pk}/", audit=audit, ids=ids,
           rows=rows)
