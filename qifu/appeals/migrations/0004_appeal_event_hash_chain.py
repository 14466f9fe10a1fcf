"""AppealEvent rows form one hash chain per subject, in seq order (qifu.audit.chain): the existing events
are linked; from now on the database refuses UPDATE, DELETE and TRUNCATE on the table (qifu.audit.protect)."""

from django.db import migrations, models


def chain_existing_events(apps, schema_editor):
    from qifu.audit import chain, protect

    Event = apps.get_model("appeals", "AppealEvent")
    connection = schema_editor.connection
    with protect.suspended(connection, [Event._meta.db_table]):
        chain.backfill_events(Event, connection)
    protect.install(connection, [Event._meta.db_table])


def unprotect(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        for trigger in ("qifu_append_only", "qifu_no_truncate"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON appeals_appealevent")
    elif connection.vendor == "sqlite":
        for action in ("update", "delete"):
            schema_editor.execute(f'DROP TRIGGER IF EXISTS "qifu_append_only_appeals_appealevent_{action}"')


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0004_audit_hash_chain'),
        ('appeals', '0003_appeal_idempotency_hash'),
    ]

    operations = [
        migrations.AddField(
            model_name='appealevent',
            name='digest',
            field=models.CharField(blank=True, editable=False, max_length=64, null=True, verbose_name='content hash'),
        ),
        migrations.AddField(
            model_name='appealevent',
            name='hash',
            field=models.CharField(blank=True, editable=False, max_length=64, null=True, verbose_name='hash'),
        ),
        migrations.AddField(
            model_name='appealevent',
            name='prev_hash',
            field=models.CharField(blank=True, editable=False, max_length=64, null=True, verbose_name="previous event's hash"),
        ),
        migrations.RunPython(chain_existing_events, unprotect),
    ]
