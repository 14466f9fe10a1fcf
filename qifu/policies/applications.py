"""The life of an application (申报) for a clause that needs one: one state machine, every transition an event.

    submitted → under_review → approved → paid
                             ↘ rejected

`submit()` opens an application inside the clause's window with the required materials; `perform()` moves
it on for a reviewer of the issuing department. Each step appends an immutable `ApplicationEvent`;
`apply()` is the only code that changes the application's derived columns and `replay()` rebuilds them
from the events. The review is due `clause.review_days` working days after submission (qifu.workcal).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qifu.audit import trail
from qifu.lib import inputs, uploads
from qifu.profiles import facts as profile_facts
from qifu.rules import clauses as cl
from qifu.workcal import workdays

from . import access
from .explanations import explain_for
from .models import Application, ApplicationEvent, ApplicationMaterial, ApplicationStatus, Payout, PayoutStatus

S = ApplicationStatus


class ApplicationError(Exception):
    """The step is not possible now, or its input is wrong (HTTP 400)."""

    status_code = 400


class NotAllowed(ApplicationError):
    status_code = 403


class StaleVersion(ApplicationError):
    status_code = 409


@dataclass(frozen=True)
class Action:
    name: str
    sources: tuple[str, ...]
    target: str
    label: object
    fields: tuple[str, ...] = ()


ACTIONS: dict[str, Action] = {a.name: a for a in [
    Action("start_review", (S.SUBMITTED,), S.UNDER_REVIEW, gettext_lazy("Start review")),
    Action("approve", (S.UNDER_REVIEW,), S.APPROVED, gettext_lazy("Approve"), ("amount", "note")),
    Action("reject", (S.UNDER_REVIEW,), S.REJECTED, gettext_lazy("Reject"), ("note",)),
]}
# "pay" happens through services.record_payment (the payout), which appends the event here.

ACTION_LABELS = {
    "submit": gettext_lazy("Submitted"),
    "start_review": gettext_lazy("Review started"),
    "approve": gettext_lazy("Approved"),
    "reject": gettext_lazy("Rejected"),
    "pay": gettext_lazy("Paid"),
}


def review_due(clause, submitted_at: datetime.datetime) -> datetime.datetime:
    rules = clause.policy.region.rules
    return workdays.deadline(submitted_at, clause.review_days, end_of_day=rules["deadline_end_of_day"],
                             tz=rules["time_zone"])


def may_review(user, application: Application) -> bool:
    return access.may_maintain(user, application.clause.policy)


def available_actions(user, application: Application) -> list[Action]:
    if not may_review(user, application):
        return []
    return [a for a in ACTIONS.values() if application.status in a.sources]


# --- applying events ------------------------------------------------------------------------------

def _dt(value):
    return datetime.datetime.fromisoformat(value) if value else None


def apply(application: Application, event: ApplicationEvent) -> None:
    d = event.data or {}
    application.status = event.to_status
    if event.action == "submit":
        application.submitted_at = event.at
        application.review_due = _dt(d.get("review_due"))
    if event.action in ("approve", "reject"):
        application.decided_at = event.at
        application.decision_note = event.note
    if "amount" in d:
        application.amount = Decimal(d["amount"])
    application.version = event.seq


DERIVED = ("status", "version", "submitted_at", "review_due", "decided_at", "decision_note", "amount")


def replay(application: Application) -> dict:
    blank = Application(clause=application.clause, enterprise=application.enterprise, version=0)
    for event in application.events.order_by("seq"):
        apply(blank, event)
    return {name: getattr(blank, name) for name in DERIVED}


def _append(application: Application, action: str, actor, to_status: str, data: dict, note: str,
            at: datetime.datetime) -> ApplicationEvent:
    actor = actor if getattr(actor, "pk", None) else None
    from_status = application.status or ""
    event = ApplicationEvent.objects.create(application=application, seq=application.version + 1, action=action,
                                            actor=actor, at=at, from_status=from_status, to_status=to_status,
                                            note=note, data=data)
    apply(application, event)
    application.save()
    trail.record("transition", application, {"status": from_status},
                 {"status": to_status, "version": application.version, "action": action}, note=note, actor=actor)
    return event


# --- submitting -----------------------------------------------------------------------------------

def _eligible(clause, enterprise, on: datetime.date):
    """The engine's answer for this enterprise today: True, False or unknown (data missing)."""
    return cl.evaluate(clause.spec(), profile_facts.enterprise_facts(enterprise, on=on), on).eligible


def _check_can_apply(clause, enterprise, on: datetime.date, eligible=None) -> None:
    """Who may apply: an enterprise that qualifies, or may qualify while some of its data is missing (the
    application's materials and the review settle it); never one whose data shows it does not qualify."""
    if clause.no_application:
        raise ApplicationError(_("No application is needed: this clause is granted from data (免申即享)."))
    if not clause.policy.is_published:
        raise ApplicationError(_("This policy is not published."))
    if not clause.spec().in_force(on):
        raise ApplicationError(_("This clause is not in force."))
    if clause.apply_from and on < clause.apply_from:
        raise ApplicationError(_("Applications open on %(date)s.") % {"date": clause.apply_from.isoformat()})
    if clause.apply_to and on > clause.apply_to:
        raise ApplicationError(_("Applications closed on %(date)s.") % {"date": clause.apply_to.isoformat()})
    if clause.policy.region_id != enterprise.region_id:
        raise ApplicationError(_("This policy is for another region."))
    open_ = Application.objects.filter(clause=clause, enterprise=enterprise).exclude(status=S.REJECTED)
    if open_.exists():
        raise ApplicationError(_("Your enterprise has already applied for this clause."))
    if (_eligible(clause, enterprise, on) if eligible is None else eligible) is False:
        raise ApplicationError(_("Your enterprise does not meet this clause's conditions."))


def check_can_apply(clause, enterprise, on: datetime.date | None = None, eligible=None) -> str:
    """'' when the enterprise may apply now, else the reason why not (for the Apply button).
    `eligible`: the engine's answer when the caller already has it (True, False or unknown)."""
    try:
        _check_can_apply(clause, enterprise, on or timezone.localdate(), eligible)
    except ApplicationError as e:
        return str(e)
    return ""


@transaction.atomic
def submit(clause, enterprise, applicant, files: dict, *, note: str = "",
           at: datetime.datetime | None = None) -> Application:
    """Apply for `clause`. `files` maps each required material's name to an uploaded file."""
    at = at or timezone.now()
    _check_can_apply(clause, enterprise, timezone.localtime(at).date())
    missing = [m for m in clause.materials if not files.get(m)]
    if missing:
        raise ApplicationError(_("Upload every required material; missing: %(names)s.") % {"names": "、".join(missing)})
    for name in clause.materials:  # every file checked before anything is stored
        try:
            files[name].name = uploads.check(files[name], uploads.DOCUMENT)
        except uploads.UploadError as e:
            raise ApplicationError(_("%(field)s: %(problem)s") % {"field": name, "problem": e}) from None
    problem = inputs.text_problem(note, max_length=inputs.TEXT_MAX)
    if problem:
        raise ApplicationError(_("%(field)s: %(problem)s") % {"field": _("note"), "problem": problem})
    application = Application(clause=clause, enterprise=enterprise, applicant=applicant if getattr(applicant, "pk", None)
                              else None, note=(note or "").strip(), status="", version=0)
    application.save()
    for name in clause.materials:
        upload = files[name]
        ApplicationMaterial.objects.create(application=application, name=name, file=upload,
                                           uploaded_by=application.applicant)
    _append(application, "submit", applicant, S.SUBMITTED, {"review_due": review_due(clause, at).isoformat()},
            application.note, at)
    _notify_reviewers(application)
    return application


def _notify_reviewers(application: Application) -> None:
    from qifu.accounts.models import Role, User
    from qifu.notify import notify

    policy = application.clause.policy
    if not policy.department_id:
        return
    reviewers = User.objects.filter(department_id=policy.department_id, is_active=True,
                                    role_grants__role=Role.HANDLER).distinct()
    if reviewers:
        notify(list(reviewers), "policy.application_submitted",
               _("New application: %(title)s") % {"title": application.clause.title},
               _("%(enterprise)s applied; the review is due %(due)s.") % {
                   "enterprise": application.enterprise.name,
                   "due": timezone.localtime(application.review_due).strftime("%Y-%m-%d %H:%M")},
               url=reverse("policy_application_detail", args=[application.pk]))


# --- reviewing --------------------------------------------------------------------------------------

def _amount(value) -> Decimal:
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        raise ApplicationError(_("Give the granted amount in yuan.")) from None
    problem = inputs.amount_problem(amount)
    if problem:
        raise ApplicationError(problem)
    return amount.quantize(Decimal("0.01"))


@transaction.atomic
def perform(application: Application | int, action: str, actor, version: int | None = None,
            **payload) -> Application:
    pk = application.pk if isinstance(application, Application) else application
    application = access.applications(actor).select_for_update().filter(pk=pk).first()
    if application is None:
        raise Application.DoesNotExist
    spec = ACTIONS.get(action)
    if spec is None:
        raise ApplicationError(_("Unknown action %(action)s.") % {"action": action})
    if version is not None and not str(version).isdigit():
        raise StaleVersion(_("The application has changed since you loaded it: reload it and try again."))
    if version is not None and int(version) != application.version:
        raise StaleVersion(_("The application has changed since you loaded it: reload it and try again."))
    if application.status not in spec.sources:
        raise ApplicationError(_("Cannot %(action)s an application that is %(status)s.") % {
            "action": spec.label, "status": application.get_status_display()})
    if not may_review(actor, application):
        raise NotAllowed(_("Only the issuing department reviews this application."))
    now = payload.get("at") or timezone.now()
    problem = inputs.text_problem(payload.get("note"), max_length=inputs.TEXT_MAX)
    if problem:
        raise ApplicationError(_("%(field)s: %(problem)s") % {"field": _("note"), "problem": problem})
    note = (payload.get("note") or "").strip()
    data: dict = {}
    if action == "approve":
        amount = payload.get("amount")
        data["amount"] = str(_amount(amount if amount not in (None, "") else _estimate(application)))
    if action == "reject" and not note:
        raise ApplicationError(_("Say why the application is rejected."))
    _append(application, action, actor, spec.target, data, note, now)
    if action == "approve":
        Payout.objects.create(clause=application.clause, enterprise=application.enterprise, application=application,
                              amount=application.amount, status=PayoutStatus.APPROVED,
                              approved_by=actor if getattr(actor, "pk", None) else None, approved_at=now)
    _notify_enterprise(application, action)
    return application


def _estimate(application: Application):
    amount = explain_for(application.clause, application.enterprise).outcome.amount
    if amount is None:
        raise ApplicationError(_("The amount cannot be estimated from the data: give it."))
    return amount


def mark_paid(application: Application, actor, payout: Payout) -> None:
    """The payout of an approved application was paid (called by services.record_payment)."""
    if application.status != S.APPROVED:
        raise ApplicationError(_("Only an approved application can be paid."))
    _append(application, "pay", actor, S.PAID,
            {"paid_amount": str(payout.paid_amount), "paid_on": payout.paid_on.isoformat(),
             "reference": payout.reference}, "", timezone.now())


def _notify_enterprise(application: Application, action: str) -> None:
    from qifu.accounts.models import Role, User
    from qifu.notify import notify

    if action not in ("approve", "reject"):
        return
    users = list(User.objects.filter(enterprise_id=application.enterprise_id, is_active=True,
                                     role_grants__role=Role.ENTERPRISE).distinct())
    if not users:
        return
    if action == "approve":
        subject = _("Application approved: %(title)s") % {"title": application.clause.title}
        body = _("Granted %(amount)s yuan.") % {"amount": f"{application.amount:,.2f}"}
    else:
        subject = _("Application rejected: %(title)s") % {"title": application.clause.title}
        body = application.decision_note
    event = "policy.application_approved" if action == "approve" else "policy.application_rejected"
    notify(users, event, subject, body, url=reverse("policy_application_detail", args=[application.pk]))
