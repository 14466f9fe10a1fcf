"""Indexes for the appeals list at a million appeals (docs/performance.md, "Appeal statistics and lists at a
million appeals"), built CONCURRENTLY on PostgreSQL (no lock on writes; this migration is not atomic):

- the abnormal lists: the appeals with a 1–2 star rating (dissatisfied) and with a `reassign` event (reassigned),
  read whole by their index alone;
- the search `q` (icontains over titles, numbers and enterprise names): `qifu_bigrams(text…)`, the pairs of
  adjacent characters of the upper-cased texts, with a GIN index. A text containing `q` contains every pair of
  `q`, so `qifu_bigrams(title, number) @> qifu_bigrams(q)` narrows the rows by the index and the icontains
  condition, kept as it is, decides (queries.filtered). pg_trgm needs three characters and Chinese words are often
  two. PL/pgSQL: 12 µs a title where the same in SQL (generate_series, array_agg) took 85 µs — the list's first
  page evaluates it on the rows it walks. Repeated pairs stay (GIN keeps each key once). PostgreSQL only; SQLite
  scans.
"""

from django.db import migrations, models

FUNCTIONS = """
CREATE OR REPLACE FUNCTION qifu_bigrams(t text) RETURNS text[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    u text := upper(t);
    pairs text[] := '{}';
BEGIN
    FOR i IN 1 .. char_length(u) - 1 LOOP
        pairs := pairs || substr(u, i, 2);
    END LOOP;
    RETURN pairs;
END
$$;
CREATE OR REPLACE FUNCTION qifu_bigrams(a text, b text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT qifu_bigrams(a) || qifu_bigrams(b) $$;
"""


def _concurrently(connection) -> bool:
    """CONCURRENTLY on PostgreSQL (the tables are large and written to) unless the migration runs inside a
    transaction (a restore migrates an empty database in one: `qifu restore`); a plain index elsewhere."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


class AddIndexConcurrentlyOnPostgres(migrations.AddIndex):
    """AddIndex, CONCURRENTLY where `_concurrently` says so."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        kwargs = {"concurrently": True} if _concurrently(schema_editor.connection) else {}
        schema_editor.add_index(model, self.index, **kwargs)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            kwargs = {"concurrently": True} if _concurrently(schema_editor.connection) else {}
            schema_editor.remove_index(model, self.index, **kwargs)


def bigrams_forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    how = "CONCURRENTLY " if _concurrently(schema_editor.connection) else ""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(FUNCTIONS)
        cursor.execute(f"CREATE INDEX {how}IF NOT EXISTS appeals_text_bigrams ON appeals_appeal "
                       "USING gin (qifu_bigrams(title, number))")
        cursor.execute(f"CREATE INDEX {how}IF NOT EXISTS enterprises_name_bigrams ON enterprises_enterprise "
                       "USING gin (qifu_bigrams(name))")
        # the planner's statistics of the indexed expressions (how many titles hold a pair): without them it
        # guesses 0.5 % and sorts 40,000 rows where walking the list's order stops after 25
        cursor.execute("ANALYZE appeals_appeal")
        cursor.execute("ANALYZE enterprises_enterprise")


def bigrams_backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    how = "CONCURRENTLY " if _concurrently(schema_editor.connection) else ""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {how}IF EXISTS appeals_text_bigrams")
        cursor.execute(f"DROP INDEX {how}IF EXISTS enterprises_name_bigrams")
        cursor.execute("DROP FUNCTION IF EXISTS qifu_bigrams(text, text); DROP FUNCTION IF EXISTS qifu_bigrams(text)")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('appeals', '0008_rating_answer'),
        ('enterprises', '0002_liaison_officer'),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name='rating',
            index=models.Index(condition=models.Q(('stars__lte', 2)), fields=['appeal'], name='appeals_rating_low'),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name='appealevent',
            index=models.Index(condition=models.Q(('action', 'reassign')), fields=['appeal'],
                               name='appeals_event_reassign'),
        ),
        migrations.RunPython(bigrams_forwards, bigrams_backwards, elidable=False),
    ]
