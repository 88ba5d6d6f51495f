"""viewflow's task tables with only the index entries a query can use
(docs/decisions/0011-storage-lean-indexes.md).

viewflow indexes six nullable columns of viewflow_task that are NULL in nearly every row
(only a human task has an owner; this project schedules no timers and runs no external
jobs, and seeds and artifacts are unused), plus a LIKE index on ``status`` that no query
uses, and viewflow_task_previous's ``from_task_id``, the leading column of its unique key.
Every query on those nullable columns compares them with a value (``owner_id = …``,
``scheduled <= …``, a foreign key's ``IN (…)``), which implies IS NOT NULL, so an index
``WHERE col IS NOT NULL`` serves it on both databases while storing no entry for the
NULL rows. About a quarter of a project-year's bytes on PostgreSQL were these entries.

The indexes keep viewflow's names; a later viewflow migration that rebuilds one gets the
full index back, which costs bytes, never a query.
"""

from django.db import migrations

#: Columns of viewflow_task that are NULL in most rows and only ever compared with a value.
SPARSE = (
    "owner_id",
    "scheduled",
    "external_task_id",
    "owner_permission_content_type_id",
    "seed_content_type_id",
    "artifact_content_type_id",
)


def _postgresql_indexes(cursor, table: str, column: str, *, partial: bool) -> list[tuple[str, str]]:
    """(name, definition) of the non-unique one-column indexes of ``table`` on ``column``."""
    cursor.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
        "JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema() "
        "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0] "
        "WHERE t.relname = %s AND a.attname = %s AND x.indnatts = 1 AND NOT x.indisunique "
        "AND (x.indpred IS NOT NULL) = %s ORDER BY i.relname",
        [table, column, partial],
    )
    return cursor.fetchall()


def _sqlite_indexes(cursor, table: str, column: str, *, partial: bool) -> list[tuple[str, str]]:
    cursor.execute(
        "SELECT m.name, m.sql FROM sqlite_master m WHERE m.type = 'index' AND m.tbl_name = %s "
        "AND m.sql IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pragma_index_list(m.tbl_name) l "
        "WHERE l.name = m.name AND l.[unique]) "
        "AND (SELECT COUNT(*) FROM pragma_index_info(m.name)) = 1 "
        "AND (SELECT name FROM pragma_index_info(m.name)) = %s ORDER BY m.name",
        [table, column],
    )
    return [(name, sql) for name, sql in cursor.fetchall() if (" WHERE " in sql.upper()) == partial]


def _indexes(schema_editor, table: str, column: str, *, partial: bool) -> list[tuple[str, str]]:
    find = _postgresql_indexes if schema_editor.connection.vendor == "postgresql" else _sqlite_indexes
    with schema_editor.connection.cursor() as cursor:
        return find(cursor, table, column, partial=partial)


def _rebuild(schema_editor, name: str, definition: str) -> None:
    schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")
    schema_editor.execute(definition)


def _full_definition(definition: str) -> str:
    return definition[: definition.upper().rindex(" WHERE ")]


def lean(apps, schema_editor):
    if schema_editor.connection.vendor not in ("postgresql", "sqlite"):
        return
    quote = schema_editor.quote_name
    for column in SPARSE:
        for name, definition in _indexes(schema_editor, "viewflow_task", column, partial=False):
            _rebuild(schema_editor, name, f"{definition} WHERE {quote(column)} IS NOT NULL")
    if schema_editor.connection.vendor == "postgresql":
        for name, _definition in _indexes(schema_editor, "viewflow_task", "status", partial=False):
            if name.endswith("_like"):  # varchar_pattern_ops: for LIKE, which nothing asks of status
                schema_editor.execute(f"DROP INDEX {quote(name)}")
    for name, _definition in _indexes(schema_editor, "viewflow_task_previous", "from_task_id", partial=False):
        schema_editor.execute(f"DROP INDEX {quote(name)}")


def full(apps, schema_editor):
    """Back to the indexes viewflow's own migrations make."""
    if schema_editor.connection.vendor not in ("postgresql", "sqlite"):
        return
    quote = schema_editor.quote_name
    for column in SPARSE:
        for name, definition in _indexes(schema_editor, "viewflow_task", column, partial=True):
            _rebuild(schema_editor, name, _full_definition(definition))
    # the names viewflow's migrations gave them (schema_editor._create_index_name)
    if schema_editor.connection.vendor == "postgresql":
        if not any(n.endswith("_like") for n, _d in _indexes(schema_editor, "viewflow_task", "status", partial=False)):
            schema_editor.execute(
                'CREATE INDEX "viewflow_task_status_ffb4516b_like" ON "viewflow_task" ("status" varchar_pattern_ops)'
            )
    if not _indexes(schema_editor, "viewflow_task_previous", "from_task_id", partial=False):
        schema_editor.execute(
            f'CREATE INDEX {quote("viewflow_task_previous_from_task_id_da5536f6")} '
            f'ON "viewflow_task_previous" ("from_task_id")'
        )


class Migration(migrations.Migration):
    dependencies = [
        ("viewflow", "0015_task_scheduled"),
        ("workflows", "0003_task_due"),
    ]

    operations = [migrations.RunPython(lean, full, elidable=False)]
