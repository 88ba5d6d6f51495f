"""`manage.py load_demo` on a database that is not the demo's: refused, or all or nothing."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError

from accounts.models import User
from accounts.roles import Role
from processes.models import BudgetProject
from workflows import demo

from ..factories import BudgetProjectFactory
from .test_demo import load

pytestmark = pytest.mark.django_db


def test_load_demo_refuses_a_database_with_real_projects_when_debug_is_off(settings):
    settings.DEBUG = False
    BudgetProjectFactory(code="2021-REAL-1")

    with pytest.raises(CommandError, match="not demo data"):
        load()
    assert not BudgetProject.objects.filter(code__in=[p.code for p in demo.PROJECTS]).exists()

    load("--force")
    assert BudgetProject.objects.filter(code__in=[p.code for p in demo.PROJECTS]).count() == len(demo.PROJECTS)


def test_load_demo_stops_when_an_existing_account_would_break_separation_of_duties():
    existing = User.objects.create(username="finance1")
    existing.groups.add(Group.objects.get(name=Role.AUDITOR))

    with pytest.raises(CommandError, match="三员分立"):
        load()
    assert not BudgetProject.objects.exists()  # all or nothing
