"""The audit trail becomes a hash chain: every existing entry is linked, in id order; from now on the
database protects the table against UPDATE, DELETE and TRUNCATE (qifu.audit.protect)."""

import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def chain_existing_entries(apps, schema_editor):
    from qifu.audit import chain, protect

    connection = schema_editor.connection
    AuditEntry = apps.get_model("audit", "AuditEntry")
    table = AuditEntry._meta.db_table
    if connection.vendor == "postgresql":  # 0002's trigger would refuse the UPDATEs below
        schema_editor.execute(f"DROP TRIGGER IF EXISTS qifu_audit_immutable ON {connection.ops.quote_name(table)}")
    with protect.suspended(connection, [table]):
        chain.backfill_audit(AuditEntry, apps.get_model("contenttypes", "ContentType"),
                             apps.get_model("audit", "ChainHead"), connection)
    protect.install(connection, [table])


def unprotect(apps, schema_editor):
    connection = schema_editor.connection
    table = connection.ops.quote_name("audit_auditentry")
    if connection.vendor == "postgresql":
        for trigger in ("qifu_append_only", "qifu_no_truncate", "qifu_audit_seal"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        schema_editor.execute("DROP TABLE IF EXISTS qifu_audit_seal_queue")
    elif connection.vendor == "sqlite":
        for action in ("update", "delete"):
            schema_editor.execute(f'DROP TRIGGER IF EXISTS "qifu_append_only_audit_auditentry_{action}"')


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0003_sign_in_actions'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ChainHead',
            fields=[
                ('name', models.CharField(max_length=32, primary_key=True, serialize=False)),
                ('seq', models.BigIntegerField(default=0)),
                ('hash', models.CharField(max_length=64)),
            ],
            options={
                'verbose_name': 'chain head',
                'verbose_name_plural': 'chain heads',
            },
        ),
        migrations.AddField(
            model_name='auditentry',
            name='chain_seq',
            field=models.BigIntegerField(blank=True, editable=False, null=True, unique=True, verbose_name='position in the chain'),
        ),
        migrations.AddField(
            model_name='auditentry',
            name='digest',
            field=models.CharField(blank=True, editable=False, max_length=64, null=True, verbose_name='content hash'),
        ),
        migrations.AddField(
            model_name='auditentry',
            name='hash',
            field=models.CharField(blank=True, editable=False, max_length=64, null=True, verbose_name='hash'),
        ),
        migrations.AddField(
            model_name='auditentry',
            name='prev_hash',
            field=models.CharField(blank=True, editable=False, max_length=64, null=True, verbose_name="previous entry's hash"),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='at',
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now, editable=False, verbose_name='time'),
        ),
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(condition=models.Q(('hash__isnull', True)), fields=['id'], name='audit_unchained'),
        ),
        migrations.RunPython(chain_existing_entries, unprotect),
    ]
