"""Shared fixtures: a department with its staff and leaders, the finance section, and a
helper that moves a project to a stage through the real services."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation

from accounts.roles import sync_role_groups
from processes.services.projects import project_create
from processes.states import ProjectStage
from workflows.services import project_act

from .factories import DepartmentFactory, make_user


def pytest_collection_modifyitems(config, items):
    """Tests that need a real server fail (never skip) when run without it."""
    for item in items:
        if item.get_closest_marker("postgres"):
            item.fixturenames.append("_require_postgres")
        if item.get_closest_marker("redis"):
            item.fixturenames.append("_require_redis")


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language (zh-hans): a request in English leaves
    English active in the thread (LocaleMiddleware), and the next test must not inherit it."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def _require_postgres():
    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL: set DATABASE_URL (run it through .ci/run)")


@pytest.fixture
def _require_redis(settings):
    if "Redis" not in settings.CHANNEL_LAYERS["default"]["BACKEND"]:
        pytest.fail("this test needs Redis: set REDIS_URL (run it through .ci/run)")


class District:
    """Two departments (A and B), each with staff and two leaders; the bureau's roles."""

    #: Every user the fixture makes, by attribute name.
    PEOPLE = (
        "staff_a",
        "leader_a",
        "leader_a2",
        "staff_b",
        "leader_b",
        "finance",
        "supervisor",
        "auditor",
        "sysadmin",
        "expert",
        "deputy",
        "agency_staff",
        "congress",
    )

    def __init__(self):
        sync_role_groups()  # a transactional test's flush removed the migration's groups
        self.dept_a = DepartmentFactory(code="A01", name="区农水局")
        self.dept_b = DepartmentFactory(code="B01", name="区住房建设局")
        self.staff_a = make_user("dept_staff", self.dept_a, username="staff_a")
        self.leader_a = make_user("dept_leader", self.dept_a, username="leader_a")
        self.leader_a2 = make_user("dept_leader", self.dept_a, username="leader_a2")
        self.staff_b = make_user("dept_staff", self.dept_b, username="staff_b")
        self.leader_b = make_user("dept_leader", self.dept_b, username="leader_b")
        self.finance = make_user("finance_officer", username="finance")
        self.supervisor = make_user("supervisor", username="supervisor")
        self.auditor = make_user("auditor", username="auditor")
        self.sysadmin = make_user("sysadmin", username="sysadmin")
        self.expert = make_user("expert", username="expert")
        self.deputy = make_user("deputy", username="deputy")
        self.agency_staff = make_user("agency_staff", username="agency")
        self.congress = make_user("congress_reader", username="congress")
        self._seq = 0

    def project(self, stage=ProjectStage.DRAFT, dept="a", amount=Decimal("1200000.00"), **kw):
        """A project of department ``dept`` moved to ``stage`` by the real services."""
        staff = self.staff_a if dept == "a" else self.staff_b
        leader = self.leader_a if dept == "a" else self.leader_b
        self._seq += 1
        fields = {
            "fiscal_year": 2021,
            "code": f"2021-{self._seq:05d}",
            "name": f"测试项目{self._seq}",
            "category": "infrastructure",
            "recurrence": "one_off",
            **kw,
        }
        project = project_create(actor=staff, requested_amount=amount, **fields)
        path = {
            ProjectStage.DRAFT: [],
            ProjectStage.SUBMITTED: [("submit", staff)],
            ProjectStage.DEPT_APPROVED: [("submit", staff), ("approve", leader)],
            ProjectStage.PRE_ASSESSMENT: [
                ("submit", staff),
                ("approve", leader),
                ("route_to_pre_assessment", self.finance),
            ],
            ProjectStage.TARGET_REVIEW: [
                ("submit", staff),
                ("approve", leader),
                ("route_to_target_review", self.finance),
            ],
            ProjectStage.BUDGETED: [
                ("submit", staff),
                ("approve", leader),
                ("route_to_target_review", self.finance),
            ],
            ProjectStage.EXECUTING: [
                ("submit", staff),
                ("approve", leader),
                ("route_to_target_review", self.finance),
            ],
            ProjectStage.WITHDRAWN: [("withdraw", staff)],
            ProjectStage.CANCELLED: [("cancel", self.finance)],
        }[stage]
        for action, actor in path:
            project = project_act(project=project, actor=actor, action=action, comment="测试理由")
        if stage in (ProjectStage.BUDGETED, ProjectStage.EXECUTING):
            self.approve_targets(project)
        if stage == ProjectStage.EXECUTING:
            project.refresh_from_db()
            project = project_act(project=project, actor=self.finance, action="start_execution")
        project.refresh_from_db()
        return project

    def approve_targets(self, project, rating="excellent", rows=None):
        """File valid targets for ``project`` and take them through the leader and the
        finance section (rated ``rating``) with the real services; returns the version."""
        from processes.services.targets import target_draft_open, target_set_save
        from workflows.services import targets_dept_review, targets_rate, targets_submit

        staff = self.staff_a if project.department_id == self.dept_a.pk else self.staff_b
        leader = self.leader_a if project.department_id == self.dept_a.pk else self.leader_b
        target_set = target_draft_open(project=project, actor=staff)
        target_set = target_set_save(
            target_set=target_set, actor=staff, overall_goal="按期完成项目建设任务", rows=rows or TARGET_ROWS
        )
        target_set = targets_submit(target_set=target_set, actor=staff)
        target_set = targets_dept_review(target_set=target_set, actor=leader, approve=True)
        comment = "" if rating == "excellent" else "审核意见"
        return targets_rate(target_set=target_set, actor=self.finance, rating=rating, comment=comment)


#: A complete set of target rows: weights 40 + 30 + 30 = 100; quantitative 70, qualitative 30.
TARGET_ROWS = [
    {
        "level1": "output",
        "level2": "quantity",
        "name": "新建灌溉渠道长度",
        "direction": "gte",
        "target_value": "12.5",
        "unit": "公里",
        "weight": "40",
    },
    {
        "level1": "output",
        "level2": "timeliness",
        "name": "工程完工时间",
        "direction": "lte",
        "target_value": "300",
        "unit": "天",
        "weight": "30",
    },
    {
        "level1": "effect",
        "level2": "social",
        "name": "农田灌溉条件改善",
        "direction": "qualitative",
        "target_text": "明显改善",
        "weight": "30",
    },
]


@pytest.fixture
def district(db):
    return District()
