"""`qifu_appeal_number(region, day, stem)`: the next number of a region's day, taken inside the appeal's INSERT
(PostgreSQL only; issue 10: the appeal row written once instead of inserted and then updated)."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION qifu_appeal_number(p_region bigint, p_day date, p_stem text) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    n bigint;
BEGIN
    INSERT INTO appeals_appealnumber AS c (region_id, day, last) VALUES (p_region, p_day, 1)
    ON CONFLICT (region_id, day) DO UPDATE SET last = c.last + 1
    RETURNING c.last INTO n;
    RETURN p_stem || CASE WHEN n < 10000 THEN lpad(n::text, 4, '0') ELSE n::text END;
END
$$;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS qifu_appeal_number(bigint, date, text)")


class Migration(migrations.Migration):
    dependencies = [("appeals", "0010_stats_covering_indexes")]

    operations = [migrations.RunPython(create, drop)]
