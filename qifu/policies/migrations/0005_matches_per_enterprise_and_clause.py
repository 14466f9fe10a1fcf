"""Matches stored as one row per enterprise and one per clause instead of one per pair (docs/decisions.md,
"政策找人 at province scale"). The existing pairs are converted; `qifu policy match` would rebuild them too
(they are derived data), but the conversion keeps who was notified of what."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def convert(apps, schema_editor):
    from qifu.policies.matches import cents, encode_ids, encode_pairs, money

    Match = apps.get_model("policies", "Match")
    EnterpriseMatches = apps.get_model("policies", "EnterpriseMatches")
    ClauseMatches = apps.get_model("policies", "ClauseMatches")
    by_enterprise: dict[int, list] = {}
    by_clause: dict[int, dict] = {}
    notified: dict[int, list] = {}
    stamp: dict[int, object] = {}
    for e, c, status, amount, mask, computed, told in Match.objects.order_by("enterprise_id", "clause_id").values_list(
            "enterprise_id", "clause_id", "status", "amount", "missing_mask", "computed_at", "notified_at").iterator(
            chunk_size=10_000):
        eligible = 1 if status == "eligible" else 0
        by_enterprise.setdefault(e, []).append((c, eligible, cents(amount), mask))
        stamp[e] = max(stamp.get(e, computed), computed)
        if told is not None:
            notified.setdefault(e, []).append(c)
        row = by_clause.setdefault(c, {"e": [], "u": [], "total": 0})
        row["e" if eligible else "u"].append(e)
        if eligible:
            row["total"] += cents(amount) or 0
    EnterpriseMatches.objects.bulk_create(
        [EnterpriseMatches(enterprise_id=e, pairs=encode_pairs(pairs), computed_at=stamp[e],
                           notified=",".join(str(c) for c in notified.get(e, [])))
         for e, pairs in by_enterprise.items()], batch_size=1000)
    ClauseMatches.objects.bulk_create(
        [ClauseMatches(clause_id=c, eligible=len(r["e"]), unknown=len(r["u"]), amount=money(r["total"]),
                       eligible_ids=encode_ids(r["e"]), unknown_ids=encode_ids(r["u"]))
         for c, r in by_clause.items()], batch_size=100)


def lz4(apps, schema_editor):
    """On PostgreSQL the clauses' id lists (tens of kB each, compressed by TOAST) use LZ4, several times faster
    to write than the default pglz; a server built without LZ4 keeps pglz."""
    if schema_editor.connection.vendor != "postgresql":
        return
    from django.db import DatabaseError, transaction

    try:
        with transaction.atomic(), schema_editor.connection.cursor() as cursor:
            cursor.execute("ALTER TABLE policies_clausematches ALTER COLUMN eligible_ids SET COMPRESSION lz4, "
                           "ALTER COLUMN unknown_ids SET COMPRESSION lz4")
    except DatabaseError:
        pass


class Migration(migrations.Migration):

    dependencies = [
        ('enterprises', '0002_liaison_officer'),
        ('policies', '0004_match_fewer_indexes_no_db_constraints'),
    ]

    operations = [
        migrations.CreateModel(
            name='EnterpriseMatches',
            fields=[
                ('enterprise', models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='policy_matches', serialize=False, to='enterprises.enterprise')),
                ('pairs', models.TextField(verbose_name='matches')),
                ('notified', models.TextField(blank=True, db_default='', default='', verbose_name='notified of')),
                ('computed_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='computed at')),
            ],
            options={
                'verbose_name': "enterprise's matches",
                'verbose_name_plural': "enterprises' matches",
            },
        ),
        migrations.CreateModel(
            name='ClauseMatches',
            fields=[
                ('clause', models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='match_summary', serialize=False, to='policies.policyclause')),
                ('eligible', models.PositiveIntegerField(default=0, verbose_name='eligible')),
                ('unknown', models.PositiveIntegerField(default=0, verbose_name='may qualify')),
                ('amount', models.DecimalField(decimal_places=2, default=0, max_digits=20, verbose_name="eligible amounts' total")),
                ('eligible_ids', models.TextField(default='[]')),
                ('unknown_ids', models.TextField(default='[]')),
                ('computed_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='computed at')),
            ],
            options={
                'verbose_name': "clause's matches",
                'verbose_name_plural': "clauses' matches",
            },
        ),
        migrations.RunPython(lz4, migrations.RunPython.noop),
        migrations.RunPython(convert, migrations.RunPython.noop),
        migrations.DeleteModel(name='Match'),
    ]
