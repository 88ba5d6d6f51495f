"""事前绩效评估 services (DESIGN §3.2): start, panel draw, opinions, quorum, conclusion, confirmation."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from accounts.models import DeputyProfile, ExpertProfile
from notifications.models import Notification
from processes.errors import ActionNotAllowed
from processes.models import AuditEvent, BudgetProject, Opinion, PanelMember, PreAssessment
from processes.notices import pre_assessment as notices
from processes.services import pre_assessment as svc
from processes.services.audit import audit_verify
from processes.states import Conclusion, OpinionStatus, PreAssessmentStatus, ProjectStage
from tests.factories import AgencyFactory, DepartmentFactory, make_user

REQUESTED = Decimal("31800000.00")
FULL_SCORES = {"necessity": "18", "economy": "16", "targets": "17", "feasibility": "18", "funding": "19"}


class Review:
    """A district with an expert library, deputies, an agency and a project in pre-assessment."""

    def __init__(self, district):
        self.d = district
        self.agency = AgencyFactory()
        self.other_agency = AgencyFactory()
        district.agency_staff.agency = self.agency
        district.agency_staff.save()
        self.staff = district.agency_staff
        self.outsider_staff = make_user("agency_staff", agency=self.other_agency)
        other_dept = DepartmentFactory()
        self.experts = []
        for i in range(6):
            user = make_user("expert", username=f"exp{i}")
            ExpertProfile.objects.create(user=user, specialties=["infrastructure"], employer="设计院")
            self.experts.append(user)
        finance_expert = make_user("expert", username="exp_fin")
        ExpertProfile.objects.create(user=finance_expert, specialties=["finance"])
        # never drawn: same department, declared conflict, the agency's own staff, inactive
        self.same_dept = make_user("expert", district.dept_a, username="exp_same_dept")
        ExpertProfile.objects.create(user=self.same_dept, specialties=["infrastructure"])
        self.conflicted = make_user("expert", username="exp_conflicted")
        ExpertProfile.objects.create(user=self.conflicted, specialties=["infrastructure"]).conflicts.add(
            district.dept_a
        )
        self.agency_expert = make_user("expert", username="exp_agency", agency=self.agency)
        ExpertProfile.objects.create(user=self.agency_expert, specialties=["infrastructure"])
        self.inactive = make_user("expert", username="exp_inactive")
        ExpertProfile.objects.create(user=self.inactive, specialties=["infrastructure"], active=False)
        self.deputies = []
        for i in range(2):
            user = make_user("deputy", other_dept, username=f"dep{i}")
            DeputyProfile.objects.create(user=user, delegation="荔湾区代表团")
            self.deputies.append(user)
        self.project = district.project(ProjectStage.PRE_ASSESSMENT, amount=REQUESTED)

    def start(self, due=None):
        return svc.pre_assessment_start(
            project=self.project,
            actor=self.d.finance,
            agency=self.agency,
            due_at=due or timezone.now() + timedelta(days=10),
        )

    def confirm_the_reports_three(self):
        """The report's three projects (Liwan) through the services to confirmation:
        7,920万 requested, 2 予以支持 + 1 部分予以支持, 1,200万 cut."""
        cases = [
            ("a", Decimal("31800000.00"), Conclusion.SUPPORT, Decimal("31800000.00")),
            ("a", Decimal("22400000.00"), Conclusion.SUPPORT, Decimal("22400000.00")),
            ("b", Decimal("25000000.00"), Conclusion.PARTIAL, Decimal("13000000.00")),
        ]
        for dept, requested, conclusion, approved in cases:
            project = self.d.project(ProjectStage.PRE_ASSESSMENT, dept=dept, amount=requested)
            pa = svc.pre_assessment_start(
                project=project, actor=self.d.finance, agency=self.agency, due_at=timezone.now() + timedelta(days=7)
            )
            pa = svc.pre_assessment_form_panel(pre_assessment=pa, actor=self.staff)
            self.submit_all(pa, recommendation=conclusion, amount=str(approved))
            pa = svc.pre_assessment_conclude(
                pre_assessment=pa, actor=self.staff, conclusion=conclusion, approved_amount=approved, reasons="评审"
            )
            svc.pre_assessment_confirm(pre_assessment=pa, actor=self.d.finance)
            self.d.approve_targets(project)  # the budget gate: confirmed review + approved targets

    def seated(self, pa):
        return list(PanelMember.objects.filter(pre_assessment=pa, active=True).select_related("user", "opinion"))

    def submit_all(self, pa, recommendation=Conclusion.PARTIAL, amount="30000000", skip=0):
        members = [m for m in self.seated(pa) if m.opinion.status == OpinionStatus.DRAFT]
        for m in members[: len(members) - skip]:
            svc.opinion_save(
                opinion=m.opinion,
                actor=m.user,
                scores=FULL_SCORES,
                recommendation=recommendation,
                recommended_amount=amount,
                text="建议核减",
                submit=True,
            )
        return members


@pytest.fixture
def review(district):
    return Review(district)


def test_agency_staff_are_commissioned_when_finance_starts(review):
    pa = review.start()
    assert pa.status == PreAssessmentStatus.INITIATED
    note = Notification.objects.get(recipient=review.staff)
    assert "组建评审组" in note.text
    assert Notification.objects.filter(recipient=review.d.staff_a, object_type="processes.preassessment").exists()


@pytest.mark.parametrize("person", ["staff_a", "leader_a", "supervisor", "auditor", "agency_staff", "expert"])
def test_start_is_refused_when_not_finance(review, person):
    with pytest.raises(PermissionDenied):
        svc.pre_assessment_start(
            project=review.project,
            actor=getattr(review.d, person),
            agency=review.agency,
            due_at=timezone.now() + timedelta(days=3),
        )
    assert not PreAssessment.objects.exists()


def test_start_is_refused_when_due_date_has_passed_or_stage_is_wrong(review):
    with pytest.raises(ValidationError):
        review.start(due=timezone.now() - timedelta(minutes=1))
    draft = review.d.project(ProjectStage.DRAFT)
    with pytest.raises(ActionNotAllowed):
        svc.pre_assessment_start(
            project=draft, actor=review.d.finance, agency=review.agency, due_at=timezone.now() + timedelta(days=3)
        )
    assert not PreAssessment.objects.exists()


def test_panel_keeps_the_rules_and_can_be_replayed_when_drawn(review):
    pa = svc.pre_assessment_form_panel(pre_assessment=review.start(), actor=review.staff)
    assert pa.status == PreAssessmentStatus.UNDER_REVIEW
    seated = review.seated(pa)
    users = {m.user for m in seated}
    assert len(seated) == 5
    assert sum(m.kind == "deputy" for m in seated) >= 1
    assert sum(m.kind == "expert" for m in seated) >= 3
    assert sum(m.sector_expert for m in seated) >= 3
    assert not users & {review.same_dept, review.conflicted, review.agency_expert, review.inactive}
    assert all(m.opinion.status == OpinionStatus.DRAFT for m in seated)
    assert svc.replay_draw(pa) == [m.user_id for m in sorted(seated, key=lambda m: m.seat)]
    for m in seated:
        assert Notification.objects.filter(recipient=m.user, kind="task").exists()


def test_draw_is_refused_with_the_rule_when_no_deputy_is_available(review):
    DeputyProfile.objects.update(active=False)
    pa = review.start()
    with pytest.raises(ValidationError) as err:
        svc.pre_assessment_form_panel(pre_assessment=pa, actor=review.staff)
    assert "人大代表" in str(err.value)
    pa.refresh_from_db()
    assert pa.status == PreAssessmentStatus.INITIATED
    assert not PanelMember.objects.exists()


def test_panel_is_drawn_only_by_the_commissioned_agency_when_others_try(review):
    pa = review.start()
    for actor in (review.outsider_staff, review.d.finance, review.d.staff_a):
        with pytest.raises(PermissionDenied):
            svc.pre_assessment_form_panel(pre_assessment=pa, actor=actor)


def test_draft_is_saved_then_submission_is_final_when_member_submits(review):
    pa = svc.pre_assessment_form_panel(pre_assessment=review.start(), actor=review.staff)
    member = review.seated(pa)[0]
    svc.opinion_save(opinion=member.opinion, actor=member.user, scores={"necessity": "15"}, text="草稿")
    opinion = Opinion.objects.get(pk=member.opinion.pk)
    assert opinion.status == OpinionStatus.DRAFT and opinion.scores == {"necessity": "15"}
    svc.opinion_save(
        opinion=opinion,
        actor=member.user,
        scores=FULL_SCORES,
        recommendation=Conclusion.PARTIAL,
        recommended_amount="29000000",
        reduction_items=[{"item": "绿化工程", "requested": "5000000", "approved": "2200000", "reason": "单价偏高"}],
        submit=True,
    )
    opinion.refresh_from_db()
    assert opinion.status == OpinionStatus.SUBMITTED
    assert opinion.total_score == Decimal("88")
    assert opinion.reduction_items.get().approved == Decimal("2200000.00")
    with pytest.raises(ActionNotAllowed):
        svc.opinion_save(opinion=opinion, actor=member.user, scores=FULL_SCORES, text="改")


@pytest.mark.parametrize(
    ("scores", "recommendation", "amount", "field"),
    [
        ({**FULL_SCORES, "necessity": "21"}, Conclusion.SUPPORT, "31800000", "scores.necessity"),
        ({**FULL_SCORES, "economy": "-1"}, Conclusion.SUPPORT, "31800000", "scores.economy"),
        ({**FULL_SCORES, "targets": "很好"}, Conclusion.SUPPORT, "31800000", "scores.targets"),
        (FULL_SCORES, Conclusion.SUPPORT, "31800000.01", "recommended_amount"),
        (FULL_SCORES, Conclusion.PARTIAL, "31800000", "recommended_amount"),
        (FULL_SCORES, Conclusion.REJECT, "1", "recommended_amount"),
        (FULL_SCORES, Conclusion.PARTIAL, "-5", "recommended_amount"),
        (FULL_SCORES, "", "100", "recommendation"),
    ],
)
def test_bad_opinion_is_refused_and_nothing_changes_when_submitted(review, scores, recommendation, amount, field):
    pa = svc.pre_assessment_form_panel(pre_assessment=review.start(), actor=review.staff)
    member = review.seated(pa)[0]
    audit_before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as err:
        svc.opinion_save(
            opinion=member.opinion,
            actor=member.user,
            scores=scores,
            recommendation=recommendation,
            recommended_amount=amount,
            submit=True,
        )
    assert field in err.value.message_dict
    opinion = Opinion.objects.get(pk=member.opinion.pk)
    assert opinion.status == OpinionStatus.DRAFT and opinion.scores == {}
    assert AuditEvent.objects.count() == audit_before


def test_non_member_cannot_write_an_opinion_when_posting(review):
    pa = svc.pre_assessment_form_panel(pre_assessment=review.start(), actor=review.staff)
    member = review.seated(pa)[0]
    outsider = next(u for u in review.experts if u.pk not in {m.user_id for m in review.seated(pa)})
    for actor in (outsider, review.staff, review.d.finance):
        with pytest.raises(PermissionDenied):
            svc.opinion_save(opinion=member.opinion, actor=actor, scores=FULL_SCORES)


def test_review_moves_on_once_when_every_member_has_submitted(review):
    pa = svc.pre_assessment_form_panel(pre_assessment=review.start(), actor=review.staff)
    review.submit_all(pa, skip=1)
    pa.refresh_from_db()
    assert pa.status == PreAssessmentStatus.UNDER_REVIEW
    review.submit_all(pa)
    pa.refresh_from_db()
    assert pa.status == PreAssessmentStatus.OPINIONS_COLLECTED
    assert AuditEvent.objects.filter(object_type="processes.preassessment", action="collect").count() == 1
    assert Notification.objects.filter(recipient=review.staff, verb__contains="汇总").count() == 1


def test_missing_opinions_expire_at_due_date_when_quorum_is_in(review):
    pa = svc.pre_assessment_form_panel(pre_assessment=review.start(), actor=review.staff)
    review.submit_all(pa, skip=2)  # 3 of 5 in: the default quorum
    assert svc.pre_assessment_close_due(pre_assessment=pa) is False  # not due yet
    assert svc.pre_assessment_close_due(pre_assessment=pa, now=pa.due_at + timedelta(seconds=1)) is True
    pa.refresh_from_db()
    assert pa.status == PreAssessmentStatus.OPINIONS_COLLECTED
    statuses = sorted(o.status for o in Opinion.objects.filter(member__pre_assessment=pa))
    assert statuses == ["expired", "expired", "submitted", "submitted", "submitted"]
    expired = Opinion.objects.filter(member__pre_assessment=pa, status=OpinionStatus.EXPIRED)
    assert all(o.scores == {} and o.submitted_at is None for o in expired)  # recorded, not faked


def test_review_waits_past_due_date_when_quorum_is_not_in(review):
    pa = svc.pre_assessment_form_panel(pre_assessment=review.start(), actor=review.staff)
    review.submit_all(pa, skip=3)
    assert svc.pre_assessment_close_due(pre_assessment=pa, now=pa.due_at + timedelta(days=1)) is False
    pa.refresh_from_db()
    assert pa.status == PreAssessmentStatus.UNDER_REVIEW


def test_member_is_replaced_through_the_draw_when_declaring_a_conflict(review):
    pa = svc.pre_assessment_form_panel(pre_assessment=review.start(), actor=review.staff)
    leaving = next(m for m in review.seated(pa) if m.kind == "expert")
    svc.opinion_save(
        opinion=leaving.opinion,
        actor=leaving.user,
        scores={},
        conflict_declared=True,
        conflict_note="曾参与该项目前期设计",
    )
    leaving.refresh_from_db()
    assert not leaving.active and "前期设计" in leaving.replaced_reason
    seated = review.seated(pa)
    assert len(seated) == 5 and leaving.user not in {m.user for m in seated}
    newcomer = next(m for m in seated if m.seat == leaving.seat)
    assert newcomer.opinion.status == OpinionStatus.DRAFT
    event = AuditEvent.objects.get(action="replace_member")
    assert event.detail["leaving"] == leaving.user_id and event.comment


def test_replacement_needs_a_reason_when_agency_replaces(review):
    pa = svc.pre_assessment_form_panel(pre_assessment=review.start(), actor=review.staff)
    with pytest.raises(ValidationError):
        svc.pre_assessment_replace_member(member=review.seated(pa)[0], actor=review.staff, reason=" ")


@pytest.mark.parametrize(
    ("conclusion", "amount"),
    [
        (Conclusion.SUPPORT, "31800000.01"),
        (Conclusion.PARTIAL, "31800000.00"),
        (Conclusion.PARTIAL, "0"),
        (Conclusion.REJECT, "100"),
        (Conclusion.SUPPORT, "-1"),
        ("maybe", "100"),
    ],
)
def test_conclusion_breaking_the_amount_rules_is_refused_when_proposed(review, conclusion, amount):
    pa = svc.pre_assessment_form_panel(pre_assessment=review.start(), actor=review.staff)
    review.submit_all(pa)
    with pytest.raises(ValidationError):
        svc.pre_assessment_conclude(
            pre_assessment=pa, actor=review.staff, conclusion=conclusion, approved_amount=amount, reasons="理由"
        )
    pa.refresh_from_db()
    assert pa.status == PreAssessmentStatus.OPINIONS_COLLECTED and pa.approved_amount is None


@pytest.mark.parametrize(
    ("conclusion", "amount", "targets_first", "stage", "approved"),
    [
        # targets approved before the conclusion: confirming it budgets the project
        (Conclusion.SUPPORT, "31800000.00", True, ProjectStage.BUDGETED, Decimal("31800000.00")),
        (Conclusion.PARTIAL, "19800000.00", True, ProjectStage.BUDGETED, Decimal("19800000.00")),
        # targets not yet approved: the project waits in target review with the amount set
        (Conclusion.PARTIAL, "19800000.00", False, ProjectStage.TARGET_REVIEW, Decimal("19800000.00")),
        (Conclusion.REJECT, "0", False, ProjectStage.REJECTED, None),
    ],
)
def test_project_is_budgeted_or_rejected_when_finance_confirms(
    review, conclusion, amount, targets_first, stage, approved
):
    if targets_first:
        review.d.approve_targets(review.project)
        assert BudgetProject.objects.get(pk=review.project.pk).stage == ProjectStage.PRE_ASSESSMENT
    pa = svc.pre_assessment_form_panel(pre_assessment=review.start(), actor=review.staff)
    review.submit_all(pa)
    pa = svc.pre_assessment_conclude(
        pre_assessment=pa, actor=review.staff, conclusion=conclusion, approved_amount=amount, reasons="依据评审意见"
    )
    assert Notification.objects.filter(recipient=review.d.finance, verb__contains="待确认").exists()
    svc.pre_assessment_confirm(pre_assessment=pa, actor=review.d.finance)
    project = BudgetProject.objects.get(pk=review.project.pk)
    assert project.stage == stage
    assert project.approved_amount == approved
    pa.refresh_from_db()
    assert pa.status == PreAssessmentStatus.CONFIRMED
    assert pa.reduction == REQUESTED - Decimal(amount)
    assert audit_verify() is None


def test_project_is_budgeted_with_the_confirmed_amount_when_targets_are_approved_after_the_review(review):
    pa = svc.pre_assessment_form_panel(pre_assessment=review.start(), actor=review.staff)
    review.submit_all(pa)
    pa = svc.pre_assessment_conclude(
        pre_assessment=pa, actor=review.staff, conclusion=Conclusion.PARTIAL, approved_amount="19800000", reasons="核减"
    )
    svc.pre_assessment_confirm(pre_assessment=pa, actor=review.d.finance)
    assert BudgetProject.objects.get(pk=review.project.pk).stage == ProjectStage.TARGET_REVIEW
    review.d.approve_targets(review.project, rating="good")
    project = BudgetProject.objects.get(pk=review.project.pk)
    assert project.stage == ProjectStage.BUDGETED
    assert project.approved_amount == Decimal("19800000.00")


def test_conclusion_goes_back_to_the_agency_when_finance_returns_it(review):
    pa = svc.pre_assessment_form_panel(pre_assessment=review.start(), actor=review.staff)
    review.submit_all(pa)
    pa = svc.pre_assessment_conclude(
        pre_assessment=pa, actor=review.staff, conclusion=Conclusion.SUPPORT, approved_amount=REQUESTED, reasons="r"
    )
    with pytest.raises(ValidationError):
        svc.pre_assessment_return(pre_assessment=pa, actor=review.d.finance, reason="")
    with pytest.raises(PermissionDenied):
        svc.pre_assessment_return(pre_assessment=pa, actor=review.staff, reason="x")
    pa = svc.pre_assessment_return(pre_assessment=pa, actor=review.d.finance, reason="核减依据不足")
    assert pa.status == PreAssessmentStatus.OPINIONS_COLLECTED
    assert Notification.objects.filter(recipient=review.staff, kind="returned").exists()
    pa = svc.pre_assessment_conclude(
        pre_assessment=pa, actor=review.staff, conclusion=Conclusion.PARTIAL, approved_amount="25000000", reasons="r2"
    )
    assert pa.status == PreAssessmentStatus.CONCLUDED


def test_reduction_rate_is_exact_when_the_reports_figures_are_used():
    from processes.models import PreAssessment as PA

    pa = PA(approved_amount=Decimal("67200000.00"))
    pa.project = BudgetProject(requested_amount=Decimal("79200000.00"))
    assert pa.reduction == Decimal("12000000.00")
    assert round(pa.reduction_rate * 100, 2) == Decimal("15.15")


# -- visibility (issue 3 item 10): experts and deputies see only what they review -----------


def test_panel_members_and_the_agency_see_the_project_when_the_panel_is_drawn(review):
    from processes.selectors import project_get_for, project_list_for, users_who_see

    other = review.d.project(ProjectStage.PRE_ASSESSMENT, dept="b", amount=REQUESTED)
    pa = svc.pre_assessment_form_panel(pre_assessment=review.start(), actor=review.staff)
    seated = [m.user for m in review.seated(pa)]
    not_seated = [u for u in review.experts + review.deputies if u not in seated]
    audience = set(users_who_see(review.project))
    for user in [*seated, review.staff]:
        assert list(project_list_for(user)) == [review.project], user
        assert project_get_for(user, review.project.pk) == review.project
        assert user in audience
    for user in [*not_seated, review.outsider_staff]:
        assert list(project_list_for(user)) == [], user
        assert user not in audience
    for user in [*seated, review.staff]:
        with pytest.raises(Http404):
            project_get_for(user, other.pk)


def test_replaced_member_no_longer_sees_the_project_when_replaced(review):
    from processes.selectors import project_list_for

    pa = svc.pre_assessment_form_panel(pre_assessment=review.start(), actor=review.staff)
    leaving = review.seated(pa)[0]
    svc.pre_assessment_replace_member(member=leaving, actor=review.staff, reason="出差无法参加")
    assert list(project_list_for(leaving.user)) == []


def test_year_summary_reproduces_the_reports_figures_when_three_projects_are_confirmed(review):
    """Liwan: 3 projects, 7,920万 requested, 2 予以支持 + 1 部分予以支持, 1,200万 cut, 15.15%."""
    from reports.figures import pre_assessment_summary

    review.confirm_the_reports_three()

    summary = pre_assessment_summary(2021)
    assert summary.projects == 3
    assert summary.requested == Decimal("79200000.00")
    assert summary.reduction == Decimal("12000000.00")
    assert summary.reduction_rate == Decimal("15.15")  # a percent, two places
    assert summary.by_conclusion == {Conclusion.SUPPORT: 2, Conclusion.PARTIAL: 1}
    assert pre_assessment_summary(2020).projects == 0


# -- the transition engine (issue 17): declared notices, roles and opinion transitions ----------


def _concluded(review, *, amounts, conclusion=Conclusion.PARTIAL, approved=Decimal("25000000.00")):
    """A review drawn, one opinion per ``amounts`` entry in seat order (None: left to expire
    at the due date), then concluded by the agency."""
    pa = review.start()
    pa = svc.pre_assessment_form_panel(pre_assessment=pa, actor=review.staff)
    members = review.seated(pa)
    for member, amount in zip(members, amounts, strict=True):
        if amount is not None:
            svc.opinion_save(
                opinion=member.opinion,
                actor=member.user,
                scores=FULL_SCORES,
                recommendation=Conclusion.PARTIAL,
                recommended_amount=amount,
                submit=True,
            )
    if None in amounts:
        assert svc.pre_assessment_close_due(pre_assessment=pa, now=pa.due_at + timedelta(seconds=1)) is True
    pa = svc.pre_assessment_conclude(
        pre_assessment=pa, actor=review.staff, conclusion=conclusion, approved_amount=approved, reasons="评审"
    )
    return pa, members


def test_agency_and_every_member_are_told_with_their_own_figure_when_the_conclusion_is_confirmed(review):
    amounts = ["30000000", "28000000.50", "26000000", "25000000", None]
    pa, members = _concluded(review, amounts=amounts)
    assert {m.kind for m in members} == {PanelMember.Kind.EXPERT, PanelMember.Kind.DEPUTY}
    svc.pre_assessment_confirm(pre_assessment=pa, actor=review.d.finance)

    told = Notification.objects.filter(
        object_type="processes.preassessment",
        object_id=str(pa.pk),
        verb__in=[notices.CONCLUSION_CONFIRMED, notices.CONCLUSION_CONFIRMED_MEMBER],
    )
    for member, amount in zip(members, amounts, strict=True):
        [note] = told.filter(recipient=member.user, params__amount="25000000.00")
        own = f"{Decimal(amount):.2f}" if amount is not None else "未提出"
        assert note.text_in("zh-hans") == (
            f"项目「{review.project.name}」事前绩效评估结论已确认：部分予以支持，"
            f"审定金额 25000000.00 元（您的建议金额：{own}）"
        )
    assert (
        told.get(recipient=members[4].user, params__amount="25000000.00")
        .text_in("en")
        .endswith("(your recommended amount: not given)")
    )
    [agency_note] = told.filter(recipient=review.staff, params__amount="25000000.00")
    assert agency_note.text_in("zh-hans") == (
        f"项目「{review.project.name}」事前绩效评估结论已确认：部分予以支持，审定金额 25000000.00 元"
    )
    assert agency_note.url == pa.get_absolute_url()
    assert not told.filter(recipient=review.d.finance, params__amount="25000000.00").exists()  # the actor
    event = AuditEvent.objects.get(object_type="processes.preassessment", object_id=str(pa.pk), action="confirm")
    assert (event.actor, event.actor_role) == (review.d.finance, "finance_officer")
    assert told.filter(event_key=f"audit:{event.sequence}").count() == len(members) + 1


def test_nobody_is_told_and_nothing_moves_when_the_confirmation_rolls_back(review):
    pa, members = _concluded(review, amounts=["30000000"] * 5)
    before = (Notification.objects.count(), AuditEvent.objects.count())
    BudgetProject.objects.filter(pk=review.project.pk).update(stage=ProjectStage.CANCELLED)  # the cascade fails
    with pytest.raises(ActionNotAllowed):
        svc.pre_assessment_confirm(pre_assessment=pa, actor=review.d.finance)
    pa.refresh_from_db()
    assert pa.status == PreAssessmentStatus.CONCLUDED
    assert (Notification.objects.count(), AuditEvent.objects.count()) == before


def test_each_opinion_moves_by_its_own_audited_transition_when_submitted_expired_or_withdrawn(review):
    pa = review.start()
    pa = svc.pre_assessment_form_panel(pre_assessment=pa, actor=review.staff)
    leaving, *others = review.seated(pa)
    svc.pre_assessment_replace_member(member=leaving, actor=review.staff, reason="出差无法参加")
    newcomer = PanelMember.objects.get(pre_assessment=pa, seat=leaving.seat, active=True)
    review.submit_all(pa, skip=2)
    assert svc.pre_assessment_close_due(pre_assessment=pa, now=pa.due_at + timedelta(seconds=1)) is True

    statuses = dict(Opinion.objects.filter(member__pre_assessment=pa).values_list("member__user_id", "status"))
    assert statuses[leaving.user_id] == OpinionStatus.WITHDRAWN
    assert sorted(statuses.values()).count(OpinionStatus.EXPIRED) == 2
    events = AuditEvent.objects.filter(object_type="processes.opinion")
    withdrawn = events.get(action="withdraw_opinion")
    assert (withdrawn.actor, withdrawn.actor_role, withdrawn.comment) == (review.staff, "agency_staff", "出差无法参加")
    assert withdrawn.detail["member"] == leaving.user_id and withdrawn.detail["pre_assessment"] == pa.pk
    for event in events.filter(action="submit_opinion"):
        member = PanelMember.objects.get(pre_assessment=pa, user=event.actor)
        assert event.actor_role == member.kind  # the role the member sits in, expert or deputy
        assert (event.from_state, event.to_state) == (OpinionStatus.DRAFT, OpinionStatus.SUBMITTED)
    assert events.filter(action="submit_opinion").count() == 3
    expired = events.filter(action="expire_opinion")
    assert expired.count() == 2 and {e.actor_role for e in expired} == {"system"}
    assert newcomer.user_id in {
        e.detail["member"] for e in events.filter(action__in=["submit_opinion", "expire_opinion"])
    }
    assert audit_verify() is None


def test_the_last_members_submission_records_the_collection_under_their_role_when_all_are_in(review):
    pa = review.start()
    pa = svc.pre_assessment_form_panel(pre_assessment=pa, actor=review.staff)
    opened = AuditEvent.objects.get(object_type="processes.preassessment", object_id=str(pa.pk), action="open_review")
    assert (opened.actor, opened.actor_role) == (review.staff, "agency_staff")
    last = review.submit_all(pa)[-1]
    collected = AuditEvent.objects.get(object_type="processes.preassessment", object_id=str(pa.pk), action="collect")
    assert (collected.actor, collected.actor_role) == (last.user, last.kind)
    assert (collected.from_state, collected.to_state) == (
        PreAssessmentStatus.UNDER_REVIEW,
        PreAssessmentStatus.OPINIONS_COLLECTED,
    )
