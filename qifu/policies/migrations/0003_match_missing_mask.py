"""Matches store their missing fields as a bit mask over the clause's field order (issue 10)."""

from django.db import migrations, models


def forwards(apps, schema_editor):
    from qifu.rules import clauses as cl
    from qifu.rules import yamlio

    PolicyClause = apps.get_model("policies", "PolicyClause")
    Match = apps.get_model("policies", "Match")
    for clause in PolicyClause.objects.all():
        data = {"code": clause.code, "title": clause.title or clause.code}
        if clause.conditions:
            data["conditions"] = clause.conditions
        if clause.benefit:
            data["benefit"] = clause.benefit
        try:
            order = cl.field_order(yamlio.parse_clause(data, clause.code))
        except Exception:  # a clause the engine cannot read: its matches are recomputed by the next match
            order = []
        PolicyClause.objects.filter(pk=clause.pk).update(field_order=order)
        for match in Match.objects.filter(clause=clause).exclude(missing=[]):
            names = [n for n in (match.missing or []) if n in order]
            Match.objects.filter(pk=match.pk).update(missing_mask=cl.encode_missing(names, order))


class Migration(migrations.Migration):

    dependencies = [
        ("policies", "0002_application_event_hash_chain"),
    ]

    operations = [
        migrations.AddField(
            model_name="policyclause",
            name="field_order",
            field=models.JSONField(blank=True, default=list, editable=False, verbose_name="fields read"),
        ),
        migrations.AddField(
            model_name="match",
            name="missing_mask",
            field=models.BigIntegerField(default=0, verbose_name="missing data"),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RemoveField(model_name="match", name="missing"),
    ]
