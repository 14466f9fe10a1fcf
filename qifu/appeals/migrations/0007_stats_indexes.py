"""Indexes for the statistics and the lists at a million appeals (docs/performance.md, "Appeal statistics and
lists at a million appeals"): a period's events of one kind or closing, the deadline in force at an event, a
region's appeals by time of receipt (also the lists' order), ratings by time."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('appeals', '0006_revisits'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='appeal',
            index=models.Index(fields=['region', 'received_at', 'id'], name='appeals_region_received'),
        ),
        migrations.AddIndex(
            model_name='appeal',
            index=models.Index(fields=['region', 'status', 'due_at'], name='appeals_region_status_due'),
        ),
        migrations.AddIndex(
            model_name='appeal',
            index=models.Index(fields=['section', 'status'], name='appeals_section_status'),
        ),
        migrations.AddIndex(
            model_name='appeal',
            index=models.Index(condition=models.Q(('escalation_level__gt', 1)), fields=['region', 'escalation_level'], name='appeals_escalated'),
        ),
        migrations.AddIndex(
            model_name='appealevent',
            index=models.Index(fields=['action', 'at'], name='appeals_event_action_at'),
        ),
        migrations.AddIndex(
            model_name='appealevent',
            index=models.Index(fields=['to_status', 'at'], name='appeals_event_to_status_at'),
        ),
        migrations.AddIndex(
            model_name='appealevent',
            index=models.Index(condition=models.Q(('data__has_key', 'due_at')), fields=['appeal', 'seq'], name='appeals_event_sets_due_at'),
        ),
        migrations.AddIndex(
            model_name='rating',
            index=models.Index(fields=['rated_at'], name='appeals_rating_rated_at'),
        ),
    ]
