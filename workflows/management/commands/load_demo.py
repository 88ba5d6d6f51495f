"""Load the demo district (荔湾区): departments, one login per role, projects at several stages.

Idempotent: people and organisations are found by code / username / credit code and
created only when missing; a project is keyed on (fiscal year, code) and, if present, left
as it is; the monitoring round is keyed on its year and months, and a report is moved on
only from where it stands. Projects and reports are moved only through the real services,
so the audit trail, the flows' tasks and the notifications are those a person would have
produced.
"""

from __future__ import annotations

import csv
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from accounts.models import Agency, Department, DeputyProfile, ExpertProfile, User
from accounts.roles import Role
from processes.models import (
    AuditEvent,
    BudgetProject,
    CommissionedEvaluation,
    DeliverableScore,
    ExpertSuggestion,
    FrameworkCommission,
    Indicator,
    IndicatorProgress,
    MonitoringReport,
    MonitoringRound,
    PanelMember,
    Payment,
    PaymentPlan,
    Recheck,
    SelfEvaluation,
    TargetRow,
)
from processes.services import budget_import, execution
from processes.services.audit import audit_verify
from processes.services.indicators import indicators_import_rows
from processes.services.jobs import job_run
from processes.services.monitoring import approved_rows, report_save
from processes.services.projects import project_create
from processes.services.targets import target_set_save
from processes.states import Grade, JobStatus, Light, ProjectStage, ReportStatus
from processes.units import wan_text
from reports.figures import pre_assessment_summary
from workflows import demo, demo_committee, demo_evaluation, demo_policy, demo_rectification, demo_results
from workflows.services import (
    monitoring_dept_review,
    monitoring_dispose,
    monitoring_review,
    monitoring_round_open,
    monitoring_submit,
    opinion_submit,
    pre_assessment_begin,
    pre_assessment_decide,
    pre_assessment_draw,
    pre_assessment_propose,
    project_act,
    targets_change_request,
    targets_dept_review,
    targets_rate,
    targets_submit,
)


def _budget_sample_codes() -> list[str]:
    with demo.BUDGET_SAMPLE.open("rb") as handle:
        return [row.get("项目编码", "") for row in budget_import.read_workbook(handle)]


@dataclass
class LoadResult:
    departments_created: list[str] = field(default_factory=list)
    users_created: list[str] = field(default_factory=list)
    projects_created: list[str] = field(default_factory=list)
    projects_present: list[str] = field(default_factory=list)
    pre_assessed: list[str] = field(default_factory=list)
    library: dict = field(default_factory=dict)
    targets_reviewed: list[str] = field(default_factory=list)
    executing: list[str] = field(default_factory=list)  # issued into execution by this load
    reports_created: int = 0
    reports_moved: list[str] = field(default_factory=list)
    execution_imports: list[str] = field(default_factory=list)  # 支付数据 / 资金支付计划 imported by this load
    evaluation: dict = field(default_factory=dict)
    rectification: dict = field(default_factory=dict)
    committee: dict = field(default_factory=dict)
    budget_import: dict = field(default_factory=dict)  # next year's 项目库 (issue 18)
    policy: dict = field(default_factory=dict)  # 重大政策事前评估 (decision 0027)
    results: dict = field(default_factory=dict)  # 结果应用台账 (workflows/demo_results.py)


class Command(BaseCommand):
    help = (
        "Load the Liwan demo district: departments, one login per role, and budget projects moved "
        "through the real services. Running it again creates nothing twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--password", default=demo.PASSWORD, help="password of the accounts this run creates (default: %(default)s)"
        )
        parser.add_argument(
            "--reset-passwords", action="store_true", help="also set the password of demo accounts that already exist"
        )
        parser.add_argument(
            "--send-mail",
            action="store_true",
            help="send the notification e-mails through EMAIL_BACKEND (default: kept in memory; "
            f"the demo addresses are @{demo.EMAIL_DOMAIN} and never deliverable)",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="load even with DEBUG off and projects in the database that are not the demo's",
        )

    def handle(self, *args, **options):
        # `make run` loads the demo on every start, so a developer's own projects are fine;
        # outside DEBUG, real projects mean a real instance, and the demo stays out of it.
        demo_codes = {p.code for p in demo.PROJECTS}
        evaluation_codes = {p.code for p in demo_evaluation.PROJECTS}
        foreign = (
            BudgetProject.objects.exclude(fiscal_year=demo.FISCAL_YEAR, code__in=demo_codes)
            .exclude(fiscal_year=demo_evaluation.YEAR, code__in=evaluation_codes)
            .exclude(fiscal_year=demo.BUDGET_SAMPLE_YEAR, code__in=_budget_sample_codes())
            .exclude(fiscal_year=demo_policy.YEAR, policy__name=demo_policy.NAME)
            .exclude(fiscal_year=demo_results.YEAR, code__in=demo_results.CODES)
        )
        if not settings.DEBUG and not options["force"] and foreign.exists():
            raise CommandError(
                f"The database holds {foreign.count()} project(s) that are not demo data and DEBUG is off; refusing "
                "to mix the demo into a real instance. Use --force if this really is a demo or training instance."
            )

        result = LoadResult()
        mail = {} if options["send_mail"] else {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
        try:
            with override_settings(**mail), transaction.atomic():
                departments = self._departments(result)
                agency = self._agency()
                users = self._users(result, departments, agency, options["password"], options["reset_passwords"])
                self._library(result, users)
                self._projects(result, users, project_act)
                self._targets(result, users, after_pre_assessment=False)
                self._pre_assessments(result, users, agency)
                result.policy = demo_policy.load(users, agency)
                self._targets(result, users, after_pre_assessment=True)
                self._execution(result, users)
                self._execution_data(result, users)
                self._monitoring(result, users)
                result.evaluation = demo_evaluation.load(users, agency)
                result.rectification = demo_rectification.load(users)
                result.budget_import = self._budget_import(users)
                result.results = demo_results.load(users)
                result.committee = demo_committee.load(users)
        except ValidationError as exc:  # e.g. 三员分立 refused a role on an existing account
            raise CommandError("; ".join(exc.messages)) from exc

        problem = audit_verify()
        if problem is not None:
            raise CommandError(f"audit chain broken at {problem}")
        if options["verbosity"] > 0:
            self._report(result, options["password"], options["reset_passwords"])

    # -- people and organisations ---------------------------------------------------------

    def _departments(self, result: LoadResult) -> dict[str, Department]:
        by_key: dict[str, Department] = {}
        for d in demo.DEPARTMENTS:  # parents come before their units
            dept, created = Department.objects.get_or_create(
                code=d.code, defaults={"name": d.name, "parent": by_key.get(d.parent) if d.parent else None}
            )
            by_key[d.key] = dept
            if created:
                result.departments_created.append(d.code)
        return by_key

    def _agency(self) -> Agency:
        agency, _ = Agency.objects.get_or_create(
            credit_code=demo.AGENCY_CREDIT_CODE, defaults={"name": demo.AGENCY_NAME}
        )
        return agency

    def _users(self, result, departments, agency, password, reset_passwords) -> dict[str, User]:
        groups = {g.name: g for g in Group.objects.filter(name__in=Role.values)}
        missing = set(Role.values) - set(groups)
        if missing:
            raise CommandError(f"role groups missing ({', '.join(sorted(missing))}); run `manage.py migrate` first")
        hashed = None  # one hash for all (one password), made only if needed: a hash takes ~0.5 s
        for u in demo.USERS:
            user, created = User.objects.get_or_create(
                username=u.username,
                defaults={
                    "full_name": u.full_name,
                    "email": f"{u.username}@{demo.EMAIL_DOMAIN}",
                    "department": departments[u.department] if u.department else None,
                    "agency": agency if u.agency else None,
                    "is_staff": u.is_staff,
                },
            )
            if created or reset_passwords:
                hashed = hashed or make_password(password)
                user.password = hashed
                user.save(update_fields=["password"])
            if created:
                result.users_created.append(u.username)
            if not user.groups.filter(pk=groups[u.role].pk).exists():
                user.groups.add(groups[u.role])  # the 三员分立 guard (accounts.signals) applies
            if u.role == Role.EXPERT:
                profile, made = ExpertProfile.objects.get_or_create(
                    user=user, defaults={"specialties": list(u.specialties), "employer": u.employer}
                )
                if made and u.conflicts:
                    profile.conflicts.set([departments[k] for k in u.conflicts])
            elif u.role == Role.DEPUTY:
                DeputyProfile.objects.get_or_create(user=user, defaults={"delegation": u.delegation})
        # Fresh instances: no role or permission cache from before the groups were added.
        return {u.username: u for u in User.objects.filter(username__in=[u.username for u in demo.USERS])}

    # -- projects ------------------------------------------------------------------------

    def _projects(self, result: LoadResult, users: dict[str, User], project_act) -> None:
        for p in demo.PROJECTS:
            if BudgetProject.objects.filter(fiscal_year=demo.FISCAL_YEAR, code=p.code).exists():
                result.projects_present.append(p.code)
                continue
            staff = users[f"{p.department}_staff"]
            project = project_create(
                actor=staff,
                fiscal_year=demo.FISCAL_YEAR,
                code=p.code,
                name=p.name,
                category=p.category,
                recurrence=p.recurrence,
                requested_amount=p.amount,
                overall_goal=p.goal,
            )
            for step in p.path:
                actor = (
                    users[f"{p.department}_{step.actor}"] if step.actor in ("staff", "leader") else users[step.actor]
                )
                project = project_act(project=project, actor=actor, action=step.action, comment=step.comment)
            if project.stage != p.stage:
                raise CommandError(f"{p.code} ended in {project.stage}, the demo expects {p.stage}")
            result.projects_created.append(p.code)

    def _library(self, result: LoadResult, users: dict[str, User]) -> None:
        """The indicator library, through the import the finance section uses (upsert by
        code: a second load changes nothing)."""
        with open(Path(settings.BASE_DIR) / demo.INDICATOR_FILE, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        result.library = indicators_import_rows(actor=users["finance1"], rows=rows)

    def _targets(self, result: LoadResult, users: dict[str, User], *, after_pre_assessment: bool) -> None:
        """File each demo project's targets and take them as far as the demo says through
        the real review: the department files and submits, the leader passes, the finance
        section rates. Projects whose first version already has rows are left alone."""
        for code, plan in demo.TARGETS.items():
            if plan.after_pre_assessment != after_pre_assessment:
                continue
            project = BudgetProject.objects.get(fiscal_year=demo.FISCAL_YEAR, code=code)
            first = project.target_sets.filter(number=1).first()
            if first is None or first.rows.exists() or not first.editable:
                continue
            key = next(d.key for d in demo.DEPARTMENTS if d.code == project.department.code)
            staff, leader = users[f"{key}_staff"], users[f"{key}_leader"]
            target_set = target_set_save(
                target_set=first, actor=staff, overall_goal=plan.goal, rows=_target_rows(plan.rows)
            )
            target_set = targets_submit(target_set=target_set, actor=staff)
            if not plan.rating:
                continue
            target_set = targets_dept_review(target_set=target_set, actor=leader, approve=True, comment="同意报送。")
            target_set = targets_rate(
                target_set=target_set,
                actor=users["finance2"],
                rating=plan.rating,
                comment=plan.comment,
                edits=_edits(plan.edits),
            )
            result.targets_reviewed.append(code)
            if plan.change_reason:
                change = targets_change_request(project=project, actor=staff, reason=plan.change_reason)
                rows = [
                    {**_row_of(r), **{f: v for pos, f, v in plan.change_edits if pos == r.position}}
                    for r in change.rows.all()
                ]
                change = target_set_save(
                    target_set=change,
                    actor=staff,
                    overall_goal=change.overall_goal,
                    rows=rows,
                    change_reason=plan.change_reason,
                )
                change = targets_submit(target_set=change, actor=staff)
                targets_dept_review(target_set=change, actor=leader, approve=True, comment="同意变更。")

    def _pre_assessments(self, result: LoadResult, users: dict[str, User], agency: Agency) -> None:
        """Run the report's three projects through the real pre-assessment flow: the finance
        section commissions the agency, the agency draws the panel (a fixed seed per project,
        so every load draws alike), every member scores, the agency concludes as the report
        did, the finance section confirms. Projects already past pre-assessment are left alone."""
        for i, (code, (conclusion, approved)) in enumerate(demo.REPORT_CONCLUSIONS.items(), start=1):
            project = BudgetProject.objects.get(fiscal_year=demo.FISCAL_YEAR, code=code)
            if project.stage != ProjectStage.PRE_ASSESSMENT:
                continue
            pa = pre_assessment_begin(
                project=project, actor=users["finance1"], agency=agency, due_at=timezone.now() + timedelta(days=14)
            )
            pa = pre_assessment_draw(pre_assessment=pa, actor=users["agency1"], seed=demo.FISCAL_YEAR * 10 + i)
            for member in PanelMember.objects.filter(pre_assessment=pa, active=True).select_related("user", "opinion"):
                opinion_submit(
                    opinion=member.opinion,
                    actor=member.user,
                    scores=demo.DEMO_SCORES,
                    recommendation=conclusion,
                    recommended_amount=approved,
                    text=demo.REPORT_REASONS[conclusion],
                )
            pa = pre_assessment_propose(
                pre_assessment=pa,
                actor=users["agency1"],
                conclusion=conclusion,
                approved_amount=approved,
                reasons=demo.REPORT_REASONS[conclusion],
            )
            pre_assessment_decide(pre_assessment=pa, actor=users["finance1"], confirm=True)
            result.pre_assessed.append(code)

    def _execution(self, result: LoadResult, users: dict[str, User]) -> None:
        """The finance section issues every budgeted demo project's budget."""
        step = demo.START_EXECUTION
        for p in demo.PROJECTS:
            project = BudgetProject.objects.get(fiscal_year=demo.FISCAL_YEAR, code=p.code)
            if project.stage != ProjectStage.BUDGETED:
                continue
            project_act(project=project, actor=users[step.actor], action=step.action, comment=step.comment)
            result.executing.append(p.code)

    def _execution_data(self, result: LoadResult, users: dict[str, User]) -> None:
        """Import the treasury's payments and payment plans of the demo year through the real
        importer, as a finance officer's upload would (a job run here, its audit row) — once:
        a year that already has payments (or plans) is left as it is."""
        for kind, path, model in (
            (execution.PAYMENTS, demo.PAYMENTS_FILE, Payment),
            (execution.PLANS, demo.PLANS_FILE, PaymentPlan),
        ):
            if model.objects.filter(project__fiscal_year=demo.FISCAL_YEAR).exists():
                continue
            with open(Path(settings.BASE_DIR) / path, "rb") as handle:
                job = execution.import_file_start(
                    kind=kind, actor=users["finance1"], file=File(handle, name=Path(path).name), dispatch=False
                )
            job = job_run(job.pk) or job
            if job.status != JobStatus.SUCCEEDED:
                raise CommandError(f"{path}: {job.errors}")
            result.execution_imports.append(f"{Path(path).name}: {job.result}")

    def _monitoring(self, result: LoadResult, users: dict[str, User]) -> None:
        """Open the January–July round over the executing demo projects (once: an existing
        round is not opened again), then take each report in demo.MONITORING through the
        real review from wherever it stands: the department fills and submits, its leader
        passes, the finance section clears or warns, and disposes of a warned one."""
        start, end = demo.MONITORING_MONTHS
        round_ = MonitoringRound.objects.filter(fiscal_year=demo.FISCAL_YEAR, start_month=start, end_month=end).first()
        if round_ is None:
            executing = BudgetProject.objects.filter(
                fiscal_year=demo.FISCAL_YEAR, code__in=[p.code for p in demo.PROJECTS], stage=ProjectStage.EXECUTING
            )
            if not executing.exists():
                return
            opened = monitoring_round_open(
                actor=users["finance1"],
                fiscal_year=demo.FISCAL_YEAR,
                start_month=start,
                end_month=end,
                due_at=timezone.now() + timedelta(days=demo.MONITORING_DUE_DAYS),
                project_ids=list(executing.values_list("pk", flat=True)),
            )
            round_, result.reports_created = opened.round, len(opened.created)
        reports = MonitoringReport.objects.filter(round=round_).select_related("project__department")
        by_code = {r.project.code: r for r in reports if r.project.fiscal_year == demo.FISCAL_YEAR}
        for code, plan in demo.MONITORING.items():
            report = by_code.get(code)
            if report is not None and self._report_through(report, plan, users):
                result.reports_moved.append(code)

    def _report_through(self, report: MonitoringReport, plan: demo.DemoReport, users: dict[str, User]) -> bool:
        """Move one report on from its status as far as the plan goes; True if it moved."""
        key = next(d.key for d in demo.DEPARTMENTS if d.code == report.project.department.code)
        staff, leader, finance = users[f"{key}_staff"], users[f"{key}_leader"], users["finance2"]
        before = report.status
        if report.status == ReportStatus.ISSUED:
            rows = approved_rows(report.project)
            if len(rows) != len(plan.indicators):
                raise CommandError(
                    f"{report.project.code}: {len(rows)} approved rows, the demo reports on {len(plan.indicators)}"
                )
            report = report_save(
                report=report,
                actor=staff,
                executed=plan.executed,
                expected_full_year=plan.expected_full_year,
                deviation_causes=plan.deviation_causes,
                measures=plan.measures,
                executed_reason=plan.executed_reason,
                adjustment_requested=plan.proposed_amount is not None,
                proposed_amount=plan.proposed_amount,
                indicators=[
                    {
                        "target_row": row.pk,
                        ("value" if row.quantitative else "progress"): progress.value,
                        "likelihood": progress.likelihood,
                    }
                    for row, progress in zip(rows, plan.indicators, strict=True)
                ],
            )
            if report.light != plan.light:
                raise CommandError(f"{report.project.code} reads {report.light}, the demo expects {plan.light}")
            report = monitoring_submit(report=report, actor=staff)
        if report.status == ReportStatus.SUBMITTED:
            report = monitoring_dept_review(report=report, actor=leader, approve=True, comment=plan.leader_comment)
        if report.status == ReportStatus.DEPT_APPROVED and plan.decision:
            report = monitoring_review(
                report=report, actor=finance, decision=plan.decision, comment=plan.review_comment
            )
        if report.status == ReportStatus.WARNED and plan.disposal:
            report = monitoring_dispose(
                report=report,
                actor=finance,
                disposal=plan.disposal,
                reason=plan.disposal_reason,
                new_amount=plan.new_amount,
            )
        return report.status != before

    # -- output --------------------------------------------------------------------------

    def _budget_import(self, users: dict[str, User]) -> dict:
        """Next year's 项目库 from the sample file, as drafts of their departments, through the
        import's service (once: a second load finds the year's projects and imports nothing)."""
        if BudgetProject.objects.filter(fiscal_year=demo.BUDGET_SAMPLE_YEAR).exists():
            return {}
        with demo.BUDGET_SAMPLE.open("rb") as handle:
            rows = budget_import.read_workbook(handle)
        return budget_import.budget_import(
            actor=users["finance1"], fiscal_year=demo.BUDGET_SAMPLE_YEAR, rows=rows, file_name=demo.BUDGET_SAMPLE.name
        )

    def _report(self, result: LoadResult, password: str, reset_passwords: bool) -> None:
        out = self.stdout
        codes = [p.code for p in demo.PROJECTS]
        projects = list(
            BudgetProject.objects.filter(fiscal_year=demo.FISCAL_YEAR, code__in=codes)
            .select_related("department")
            .order_by("department__code", "code")
        )
        out.write(self.style.MIGRATE_HEADING(f"荔湾区 demo — fiscal year {demo.FISCAL_YEAR}"))
        out.write(f"Departments: {len(demo.DEPARTMENTS)} ({len(result.departments_created)} created)")
        out.write(f"Users:       {len(demo.USERS)} ({len(result.users_created)} created)")
        out.write(
            f"Projects:    {len(projects)} ({len(result.projects_created)} created, "
            f"{len(result.projects_present)} already present and left as they are)"
        )
        out.write("")
        out.write(
            _table(
                ["code", "department", "stage", "requested (万元)", "project"],
                [
                    [p.code, p.department.name, p.get_stage_display(), _wan(p.requested_amount), p.name]
                    for p in projects
                ],
            )
        )
        summary = pre_assessment_summary(demo.FISCAL_YEAR)
        rate = f"{summary.reduction_rate} %" if summary.reduction_rate is not None else "—"
        out.write("")
        out.write(
            f"Pre-assessment {demo.FISCAL_YEAR} (confirmed, from data): {summary.projects} projects, requested "
            f"{_wan(summary.requested)} 万元, approved {_wan(summary.approved)} 万元, cut {_wan(summary.reduction)} 万元, "
            f"rate {rate}; {len(result.pre_assessed)} run through the flow by this load"
        )
        policies = pre_assessment_summary(demo.FISCAL_YEAR, policies=True)
        out.write(
            f"Major policies pre-assessed {demo.FISCAL_YEAR}: {policies.projects}, funding "
            f"{_wan(policies.requested)} 万元, approved {_wan(policies.approved)} 万元; "
            f"{result.policy.get('policies_pre_assessed', 0)} by this load"
        )
        library = Indicator.objects.filter(status="approved")
        out.write(
            f"Indicator library: {library.count()} indicators ({library.filter(scope='general').count()} general, "
            f"{library.filter(scope='department').count()} department-specific); this load: "
            + ", ".join(f"{k} {v}" for k, v in result.library.items() if isinstance(v, int))
        )
        out.write(f"Targets reviewed by this load: {len(result.targets_reviewed)}")
        out.write(f"Issued into execution by this load: {len(result.executing)}")
        start, end = demo.MONITORING_MONTHS
        round_ = MonitoringRound.objects.filter(fiscal_year=demo.FISCAL_YEAR, start_month=start, end_month=end).first()
        if round_ is not None:
            out.write(_round_line(round_, result))
        paid = Payment.objects.filter(project__fiscal_year=demo.FISCAL_YEAR)
        planned = PaymentPlan.objects.filter(project__fiscal_year=demo.FISCAL_YEAR)
        out.write(
            f"Execution data {demo.FISCAL_YEAR}: {paid.count()} monthly payments of "
            f"{paid.values('project').distinct().count()} projects, {planned.count()} plan months of "
            f"{planned.values('project').distinct().count()}; this load: "
            + ("; ".join(result.execution_imports) or "nothing imported")
        )
        out.write(_evaluation_line())
        rect = result.rectification
        out.write(
            f"Rectification {demo_rectification.YEAR}: {rect.get('rectifications', 0)} notices "
            f"({rect.get('closed', 0)} closed, {rect.get('overdue', 0)} overdue); "
            f"year close-out: {rect.get('closed_out', 0)} projects closed, {rect.get('left_open', 0)} left open"
        )
        drafts = BudgetProject.objects.filter(fiscal_year=demo.BUDGET_SAMPLE_YEAR, stage=ProjectStage.DRAFT).count()
        out.write(
            f"Budget preparation {demo.BUDGET_SAMPLE_YEAR}: {drafts} drafts from {demo.BUDGET_SAMPLE.name} "
            f"({result.budget_import.get('created', 0)} imported by this load)"
        )
        ledger = result.results
        out.write(
            f"Results application {demo_results.YEAR}: {ledger.get('rows', 0)} ledger rows "
            f"({ledger.get('decided', 0)} decided, {ledger.get('overridden', 0)} overridden, "
            f"cut {wan_text(ledger.get('cut', 0))} 万元)"
        )
        com = result.committee
        out.write(
            f"Committee opinion on {demo_committee.YEAR}: {com.get('items', 0)} items "
            f"({com.get('accepted', 0)} accepted, {com.get('responded', 0)} responded)"
        )
        out.write(f"Audit trail: {AuditEvent.objects.count()} events, chain intact")
        out.write("")
        out.write(self.style.MIGRATE_HEADING("Logins"))
        by_username = {
            u.username: u
            for u in User.objects.filter(username__in=[u.username for u in demo.USERS]).select_related(
                "department", "agency"
            )
        }
        rows = []
        for u in demo.USERS:
            user = by_username[u.username]
            where = user.department.name if user.department else (user.agency.name if user.agency else "—")
            rows.append([u.username, f"{Role(u.role).label} ({u.role})", where])
        out.write(_table(["username", "role", "department / agency"], rows))
        out.write("")
        scope = "every demo account" if reset_passwords else "the demo accounts created by this command"
        out.write(self.style.SUCCESS(f"Password of {scope}: {password}"))
        if not reset_passwords and len(result.users_created) < len(demo.USERS):
            out.write("(accounts that already existed keep their password; --reset-passwords sets it again)")


def _evaluation_line() -> str:
    """The evaluation year's campaign by grade, its re-checks and commissioned evaluations."""
    year = demo_evaluation.YEAR
    graded = Counter(
        SelfEvaluation.objects.filter(campaign__fiscal_year=year, status="accepted").values_list("grade", flat=True)
    )
    grades = " ".join(f"{Grade(g).label} {graded.get(g, 0)}" for g in Grade.values)
    rechecks = Recheck.objects.filter(sample__campaign__fiscal_year=year)
    evaluations = CommissionedEvaluation.objects.filter(fiscal_year=year)
    return (
        f"Evaluation {year}: {SelfEvaluation.objects.filter(campaign__fiscal_year=year).count()} self-evaluations "
        f"(accepted by grade: {grades}); {rechecks.count()} re-checks ({rechecks.filter(status='final').count()} final); "
        f"{evaluations.filter(kind='key').count()} key and {evaluations.filter(kind='department').count()} "
        f"department evaluation(s); {ExpertSuggestion.objects.filter(evaluation__fiscal_year=year).count()} "
        f"expert suggestions; framework commission: "
        f"{FrameworkCommission.objects.filter(fiscal_year=year).first() or '—'}; "
        f"{DeliverableScore.objects.filter(fiscal_year=year).count()} quality scores"
    )


def _round_line(round_: MonitoringRound, result: LoadResult) -> str:
    """The round's reports counted by project light (worst first), and its blue indicators."""
    reports = MonitoringReport.objects.filter(round=round_)
    counts = {light: reports.filter(light=light).count() for light in Light.values}
    blue = IndicatorProgress.objects.filter(report__round=round_, light=Light.BLUE).count()
    unfilled = reports.filter(status=ReportStatus.ISSUED).count()
    return (
        f"Monitoring round {round_.title}: {reports.count()} reports by light — "
        + ", ".join(f"{light} {counts[light]}" for light in Light.values)
        + f"; {blue} indicators read blue; {unfilled} still with the department; this load: "
        f"{result.reports_created} reports created, {len(result.reports_moved)} moved on"
    )


def _target_rows(rows: tuple[demo.DemoTarget, ...]) -> list[dict]:
    codes = {r.indicator for r in rows if r.indicator}
    library = {i.code: i for i in Indicator.objects.filter(code__in=codes)}
    out = []
    for r in rows:
        row: dict[str, object] = {"target_value": "", "target_text": "", "weight": r.weight, "unit": r.unit}
        if r.indicator:
            row["indicator"] = library[r.indicator].pk
            direction = library[r.indicator].direction
        else:
            row.update(level1=r.level1, level2=r.level2, name=r.name, direction=r.direction)
            direction = r.direction
        row["target_text" if direction == "qualitative" else "target_value"] = r.value
        out.append(row)
    return out


def _row_of(row: TargetRow) -> dict:
    return {
        "indicator": row.indicator_id,
        "level1": row.level1,
        "level2": row.level2,
        "name": row.name,
        "direction": row.direction,
        "target_value": row.target_value,
        "target_text": row.target_text,
        "unit": row.unit,
        "weight": row.weight,
    }


def _edits(edits: tuple[tuple[int, str, str], ...]) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = {}
    for position, name, value in edits:
        out.setdefault(position, {})[name] = value
    return out


def _wan(amount: Decimal) -> str:
    return wan_text(amount)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(header: list[str], rows: list[list[str]]) -> str:
    """A plain text table whose columns line up with Chinese text in a terminal."""
    cells = [header, *[[str(c) for c in r] for r in rows]]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(header))]

    def line(r):
        return "  ".join(c + " " * (w - _width(c)) for c, w in zip(r, widths, strict=True)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, cells[1:])])
