"""What the knowledge base gives routing (`qifu.appeals.routing`):

- training signal: each published knowledge entry is one more text for its unit (lead) and section, like a past case;
- documents: the published entries and cases, as vectors of the routing model, so a suggestion lists the ones most
  like the new appeal's text (`matches`);
- its part of the model's stamp: any change to an entry or a case rebuilds the model.

Registered with routing when the app starts (`KnowledgeConfig.ready`): routing does not import the knowledge base."""

from django.db.models import Count, Max

from .models import CaseState, CaseStudy, EntryState, KnowledgeEntry

MATCHES = 5
MIN_SCORE = 0.05  # below this a shared word is chance


def stamp(region_id) -> tuple:
    e = KnowledgeEntry.objects.filter(region_id=region_id).aggregate(n=Count("id"), top=Max("id"), at=Max("updated_at"))
    c = CaseStudy.objects.filter(region_id=region_id).aggregate(n=Count("id"), top=Max("id"), at=Max("updated_at"))
    return (e["n"], e["top"], e["at"], c["n"], c["top"], c["at"])


def material(region_id) -> tuple[list, list]:
    """The published entries as training cases (ids negative: never similar cases) and the published entries and
    case studies as documents (kind, id, words)."""
    from qifu.appeals.routing import Case, words

    entries, case_studies = texts(region_id)
    training, documents = [], []
    for pk, text, section, unit in entries:
        tokens = words(text)
        training.append(Case(-pk, tokens, section, unit))
        documents.append(("entry", pk, tokens))
    documents += [("case", pk, words(text)) for pk, text in case_studies]
    return training, documents


def texts(region_id) -> tuple[list[tuple], list[tuple]]:
    """([(entry id, text, section code, unit code)], [(case id, text)]) of the region's published ones."""
    entries = [(pk, f"{question} {keywords} {answer}", section, unit) for pk, question, keywords, answer, section, unit
               in KnowledgeEntry.objects.filter(region_id=region_id, state=EntryState.PUBLISHED).values_list(
                   "pk", "question", "keywords", "answer", "section__code", "department__code")]
    cases = [(pk, f"{title} {problem} {solution}") for pk, title, problem, solution in CaseStudy.objects.filter(
        region_id=region_id, state=CaseState.PUBLISHED).values_list("pk", "title", "problem", "solution")]
    return entries, cases


def matches(user, model, tokens: list[str], limit: int = MATCHES) -> list[dict]:
    """The published entries and cases the user may see most like the text, best first: the suggestion's
    `knowledge`."""
    from . import services

    query = model.vector(tokens)
    if not query or not model.documents:
        return []
    from qifu.appeals.routing import _dot

    scored = sorted(((_dot(query, vec), kind, pk) for kind, pk, vec in model.documents),
                    key=lambda s: (-s[0], s[1], s[2]))
    scored = [s for s in scored if s[0] >= MIN_SCORE][:limit * 3]
    entries = {e.pk: e for e in services.entries(user).filter(
        state=EntryState.PUBLISHED, pk__in=[pk for _s, kind, pk in scored if kind == "entry"])}
    cases = {c.pk: c for c in services.cases(user).filter(
        state=CaseState.PUBLISHED, pk__in=[pk for _s, kind, pk in scored if kind == "case"])}
    out = []
    for score, kind, pk in scored:
        item = (entries if kind == "entry" else cases).get(pk)
        if item is not None:
            out.append(services.hit(item, score))
        if len(out) >= limit:
            break
    return out
