"""PostgreSQL connections bind parameters on the server and keep repeated statements
prepared (config/settings/base.py ``server_prepared``): production and the bench servers
through ``pooled``, the tests through config/settings/test.py."""

import pytest
from django.db import connection

from config.settings.base import pooled, server_prepared


def test_pooled_postgresql_binds_on_the_server_and_prepares_and_sqlite_is_left_alone():
    postgres = pooled({"ENGINE": "django.db.backends.postgresql", "NAME": "x"}, 4)
    assert postgres["OPTIONS"]["server_side_binding"] is True
    assert postgres["OPTIONS"]["prepare_threshold"] == 5
    assert postgres["OPTIONS"]["pool"]["max_size"] == 4
    sqlite = server_prepared(pooled({"ENGINE": "config.sqlite", "NAME": "db"}, 4))
    assert "OPTIONS" not in sqlite


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_statement_run_again_on_a_connection_is_prepared_once_with_new_values():
    sql = "SELECT %s::int + count(*) AS prepared_test FROM django_content_type WHERE app_label <> %s"
    with connection.cursor() as cursor:
        answers = []
        for n in range(8):
            cursor.execute(sql, [n, "no-such-app"])
            answers.append(cursor.fetchone()[0])
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%prepared_test%"])
        prepared = cursor.fetchone()[0]
    base = answers[0]
    assert answers == [base + n for n in range(8)]  # each run its own values
    assert prepared == 1
