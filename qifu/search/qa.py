"""Smart Q&A (智能问答): the best-matching standard question (a service item's Q&A pair or a published knowledge
entry) answers with its answer and its source; "ask a person" turns the question into an appeal through the appeal
intake (`workflow.register`, as the enterprise's own online appeal form does)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from . import engine
from .models import Kind, QuestionAnswer

# Below this the best match is too weak to answer with (PostgreSQL: a ts_rank of 0.05, scaled as engine._pg_run
# does: 0.05 / 1.05).
MIN_SCORE = {"sqlite": 1.0, "postgresql": 0.0476}
QA_KINDS = (Kind.QA, Kind.KNOWLEDGE)


@dataclass
class Answer:
    question: str
    answer: str
    source: str
    url: str
    kind: str
    score: float
    item_name: str = ""


def _answer_of(hit) -> Answer | None:
    if hit.kind == Kind.QA:
        qa = QuestionAnswer.objects.select_related("item").filter(pk=hit.object_id).first()
        if qa is None:
            return None
        return Answer(qa.question, qa.answer, qa.source or _("Service guide: %(name)s") % {"name": qa.item.name},
                      hit.url, hit.kind, hit.score, qa.item.name)
    from qifu.knowledge.models import KnowledgeEntry

    entry = KnowledgeEntry.objects.select_related("department").filter(pk=hit.object_id).first()
    if entry is None:
        return None
    source = entry.legal_basis or _("Knowledge base, %(unit)s") % {"unit": entry.department.name}
    return Answer(entry.question, entry.answer, source, hit.url, hit.kind, hit.score)


def answer(user, q: str) -> Answer | None:
    """The best answer to `q` among what `user` may see, or None when nothing matches well enough."""
    from django.db import connection

    _total, hits = engine.search(user, q, limit=1, kinds=QA_KINDS, mode="any", count=False)
    if not hits or hits[0].score < MIN_SCORE.get(connection.vendor, 0):
        return None
    return _answer_of(hits[0])


def may_ask(user) -> bool:
    from qifu.accounts.models import Role

    return user.has_role(Role.ENTERPRISE) and user.enterprise_id is not None


def ask_person(user, question: str, details: str = ""):
    """Turn an unanswered question into the enterprise's online appeal (the appeal intake: `workflow.register`)."""
    from qifu.appeals import queries, workflow
    from qifu.appeals.models import Channel
    from qifu.appeals.views import ONLINE_CHANNEL

    if not may_ask(user):
        raise PermissionDenied
    channel = Channel.open_by_code(ONLINE_CHANNEL)
    if channel is None:
        raise workflow.TransitionError(_("Online appeals are not open: please call the center."))
    question = " ".join(question.split())
    description = _("Asked in the smart Q&A, not answered there: %(question)s") % {"question": question}
    if details.strip():
        description += "\n" + details.strip()
    appeal, _new = workflow.register(
        actor=user, enterprise=queries.enterprise_for_intake(user, None), channel=channel,
        title=question[:200], description=description, contact_name=user.display_name, contact_phone=user.phone)
    return appeal
