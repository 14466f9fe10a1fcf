"""PostgreSQL: keep the documents' vectors in the table's own rows (STORAGE MAIN: compressed in line, moved to the
TOAST table only when a row would not fit in a page) — ranking reads each ranked row's vector, and an out-of-line
vector costs two more page reads (the TOAST index and its chunk). The words (`title_words`, `body_words`) go out of
line first instead. Rows written before this migration keep their layout until rewritten (`qifu search reindex`)."""

from django.db import migrations


def vectors_main(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for column in ("vector", "title_vector"):
            schema_editor.execute(f"ALTER TABLE search_searchdocument ALTER COLUMN {column} SET STORAGE MAIN")


def vectors_extended(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for column in ("vector", "title_vector"):
            schema_editor.execute(f"ALTER TABLE search_searchdocument ALTER COLUMN {column} SET STORAGE EXTENDED")


class Migration(migrations.Migration):

    dependencies = [("search", "0001_search_documents_and_questions")]

    operations = [migrations.RunPython(vectors_main, vectors_extended)]
