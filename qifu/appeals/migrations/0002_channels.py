from django.db import migrations


def forwards(apps, schema_editor):
    from qifu.appeals.channels import ensure_default_channels

    ensure_default_channels(apps.get_model("appeals", "Channel"))


class Migration(migrations.Migration):
    dependencies = [("appeals", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
