"""The browser tests of the screens as a whole (layout, accessibility: issue 21) run on the
demo data of `manage.py load_demo` — every role, and every journey part-way through — plus a
pre-assessment whose panel has just been drawn (the demo's opinions are all submitted), so
that an expert has an opinion form to fill. The script prints ``E2E {json}``: the logins and
the pages of each journey's forms."""

from __future__ import annotations

import json

from .support import PASSWORD, new_context

DEMO_SCRIPT = f"""
import json
from datetime import timedelta
from django.core.management import call_command
from django.utils import timezone
from accounts.models import Agency, User
from processes.models import (BudgetProject, MonitoringReport, PanelMember, Rectification, SelfEvaluation,
                              TargetSet)
from workflows.services import pre_assessment_begin, pre_assessment_draw, project_act

call_command("load_demo", password={PASSWORD!r}, stdout=open("/dev/null", "w"))
finance = User.objects.get(username="finance1")

def staff_of(department):
    return User.objects.filter(department=department, groups__name="dept_staff").order_by("username")[0].username

project = BudgetProject.objects.filter(stage="dept_approved", category="infrastructure").order_by("pk")[0]
project_act(project=project, actor=finance, action="route_to_pre_assessment")
agent = User.objects.get(username="agency1")
pa = pre_assessment_begin(project=project, actor=finance, agency=agent.agency, due_at=timezone.now() + timedelta(days=7))
pa = pre_assessment_draw(pre_assessment=pa, actor=agent, seed=7)
expert = PanelMember.objects.filter(pre_assessment=pa, active=True, user__groups__name="expert").order_by("pk")[0]

returned = TargetSet.objects.filter(status="returned").select_related("project").order_by("pk")[0]
rated = TargetSet.objects.filter(status="dept_approved").select_related("project").order_by("pk")[0]
report = MonitoringReport.objects.filter(status="issued").select_related("project").order_by("pk")[0]
se = SelfEvaluation.objects.filter(status="issued").select_related("project").order_by("pk")[0]
rect = Rectification.objects.filter(status="acknowledged").select_related("project").order_by("pk")[0]
print("E2E " + json.dumps({{
    "opinion": [expert.user.username, f"/pre-assessments/{{pa.pk}}/my-opinion/"],
    "targets_edit": [staff_of(returned.project.department), f"/projects/{{returned.project_id}}/targets/"],
    "targets_rate": ["finance1", f"/projects/{{rated.project_id}}/targets/"],
    "monitoring_report": [staff_of(report.project.department), f"/monitoring/reports/{{report.pk}}/"],
    "self_evaluation": [staff_of(se.project.department), f"/evaluations/self/{{se.pk}}/"],
    "rectification_report": [staff_of(rect.project.department), f"/rectifications/{{rect.pk}}/"],
    "reports": ["finance1", "/reports/"],
}}))
"""


def demo_facts(printed: str) -> dict:
    return json.loads(next(line for line in printed.splitlines() if line.startswith("E2E "))[4:])


#: One login per role of the demo district (workflows.demo.USERS).
ROLES = [
    "finance1",
    "supervisor",
    "auditor",
    "nongshui_staff",
    "nongshui_leader",
    "expert1",
    "deputy1",
    "agency1",
    "sysadmin",
]


def open_as(browser, base: str, username: str, width: int = 1366, height: int = 900):
    """A new page of ``browser``, signed in as ``username`` through the login form, at
    ``width`` × ``height``."""
    page = new_context(browser, base).new_page()
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]:has-text('登录')")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page
