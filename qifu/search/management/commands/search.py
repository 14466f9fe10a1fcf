"""`qifu search reindex [--kind KIND]`: rebuild the search index from the catalog, the Q&A library, the knowledge
base and the policies; `qifu search query TEXT [--user USERNAME]`: what a search finds (a check from the shell)."""

from django.core.management.base import BaseCommand, CommandError

from qifu.search import engine, index
from qifu.search.models import Kind


class Command(BaseCommand):
    help = "Search: `reindex` rebuilds the index; `query TEXT` shows what a search finds."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="action")
        rebuild = actions.add_parser("reindex", help="rebuild the search index")
        rebuild.add_argument("--kind", choices=Kind.values, action="append", help="only this kind (repeatable)")
        query = actions.add_parser("query", help="search as a user (default: the first superuser)")
        query.add_argument("text")
        query.add_argument("--user", default="", help="username")
        query.add_argument("--limit", type=int, default=10)

    def handle(self, *args, action: str, **options) -> None:
        if action == "reindex":
            counts = index.rebuild(options.get("kind"))
            self.stdout.write("search index: " + ", ".join(f"{k} {n}" for k, n in counts.items()))
            return
        from django.contrib.auth import get_user_model

        users = get_user_model().objects
        user = (users.filter(username=options["user"]).first() if options["user"]
                else users.filter(is_superuser=True).first())
        if user is None:
            raise CommandError("no such user")
        total, hits = engine.search(user, options["text"], limit=options["limit"])
        self.stdout.write(f"{total} found; terms: {engine.terms(options['text'], engine.synonyms(None))}")
        for hit in hits:
            self.stdout.write(f"{hit.score:8.3f}  {hit.kind:9}  {hit.title}  {hit.url}")
