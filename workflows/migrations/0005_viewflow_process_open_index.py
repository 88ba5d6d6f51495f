"""An index of the open processes (``viewflow_process.status = 'NEW'``).

The inbox and the deadline board join tasks to their processes and keep the open ones.
viewflow's process table has no index on its status, so with a year's finished flows in
the table PostgreSQL read every process to find the open few: at 100,000 tasks the
inbox took 13 ms in the database against 6 ms at 1,000 (docs/performance.md). A partial
index holds an entry for the open processes only — a few thousand rows whatever the
history — and the planner reads them from it. Same SQL on SQLite.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("viewflow", "0015_task_scheduled"),
        ("workflows", "0004_viewflow_task_lean_indexes"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX viewflow_process_open ON viewflow_process (id) WHERE status = 'NEW'",
            reverse_sql="DROP INDEX viewflow_process_open",
        ),
    ]
