"""Covering indexes for the statistics (docs/performance.md, "Appeal statistics and lists at a million appeals"):
a period's events of one kind or closings give their appeals from the index alone, and "a later handling" of a
handling is an index-only probe. They replace 0007's (action, at) and (to_status, at)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('appeals', '0009_list_indexes'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='appealevent',
            name='appeals_event_action_at',
        ),
        migrations.RemoveIndex(
            model_name='appealevent',
            name='appeals_event_to_status_at',
        ),
        migrations.AddIndex(
            model_name='appealevent',
            index=models.Index(fields=['action', 'at'], include=('appeal', 'seq'), name='appeals_event_action_at_ids'),
        ),
        migrations.AddIndex(
            model_name='appealevent',
            index=models.Index(fields=['to_status', 'at'], include=('appeal',), name='appeals_event_status_at_ids'),
        ),
        migrations.AddIndex(
            model_name='appealevent',
            index=models.Index(condition=models.Q(('action__in', ('mark_handled', 'solve_on_spot'))), fields=['appeal', 'seq'], include=('at',), name='appeals_event_handlings'),
        ),
    ]
