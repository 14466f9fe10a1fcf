from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0003_listing"),
    ]

    operations = [
        migrations.AddField(
            model_name="appealitem",
            name="request",
            field=models.BooleanField(default=False, help_text="the appeal is a request for this item (its time limit applies)", verbose_name="service request"),
        ),
    ]
