"""Results application 结果应用 (DESIGN §3.7), through processes.results: the last grade of the
project a submission continues, with the settings' budget recommendation, and the warning
of a similar one-off project graded 差 — within one department only, in a fixed number of
queries.

The grades are written as rows here (accepted self-evaluations, final re-checks, finished
key evaluations, as imported history has them); tests/screens/test_results_application_pages.py
grades one through the real services."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Agency
from processes.models import (
    BudgetProject,
    CommissionedEvaluation,
    EvaluationCampaign,
    Recheck,
    RecheckSample,
    SelfEvaluation,
)
from processes.results import (
    last_result,
    name_similarity,
    recommendation_for,
    results_for,
    results_visible_to,
    similar_failed_one_offs,
)
from processes.states import EvaluationStatus, RecheckStatus, SelfEvaluationStatus
from tests.factories import BudgetProjectFactory

SCORE_OF = {"excellent": "92.50", "good": "85.00", "fair": "72.30", "poor": "55.00"}


def earlier(district, *, year, code=None, name="社区养老服务补贴", dept="a", recurrence="one_off", **kw):
    department = district.dept_a if dept == "a" else district.dept_b
    return BudgetProjectFactory(
        department=department,
        fiscal_year=year,
        code=code or f"{year}-{BudgetProject.objects.count() + 1:05d}",
        name=name,
        category=kw.pop("category", "civil_affairs"),
        recurrence=recurrence,
        created_by=district.staff_a if dept == "a" else district.staff_b,
        **kw,
    )


def self_graded(district, project, grade, *, status=SelfEvaluationStatus.ACCEPTED):
    """A self-evaluation of ``project`` with ``grade``, as the campaign leaves it."""
    campaign, _ = EvaluationCampaign.objects.get_or_create(
        fiscal_year=project.fiscal_year,
        defaults={
            "title": f"{project.fiscal_year} 年度绩效自评",
            "due_at": timezone.now(),
            "launched_by": district.finance,
        },
    )
    return SelfEvaluation.objects.create(
        campaign=campaign, project=project, status=status, score=Decimal(SCORE_OF[grade]), grade=grade
    )


@pytest.fixture
def agency(db):
    return Agency.objects.create(name="广州某绩效评价事务所", credit_code="91440101MA59PJ0012")


def rechecked(district, agency, se, grade, *, status=RecheckStatus.FINAL):
    sample = RecheckSample.objects.create(
        campaign=se.campaign, agency=agency, method="manual", due_at=timezone.now(), created_by=district.finance
    )
    return Recheck.objects.create(
        sample=sample,
        self_evaluation=se,
        project=se.project,
        status=status,
        self_score=se.score,
        self_grade=se.grade,
        final_score=Decimal(SCORE_OF[grade]) + Decimal("0.50"),
        final_grade=grade,
    )


def key_evaluated(district, agency, project, grade, *, status=EvaluationStatus.FINAL):
    return CommissionedEvaluation.objects.create(
        kind="key",
        fiscal_year=project.fiscal_year,
        department=project.department,
        project=project,
        agency=agency,
        title=f"{project.name}重点评价",
        due_at=timezone.now() + timedelta(days=30),
        status=status,
        score=Decimal(SCORE_OF[grade]) + Decimal("1.00"),
        grade=grade,
        commissioned_by=district.finance,
    )


# -- last_result ------------------------------------------------------------------------------


def test_last_result_is_the_most_recent_graded_year_when_the_code_continues(district):
    self_graded(district, earlier(district, year=2019, code="NS-001", recurrence="recurring"), "excellent")
    self_graded(district, earlier(district, year=2020, code="NS-001", recurrence="recurring"), "fair")
    earlier(district, year=2021, code="NS-001", recurrence="recurring")  # not graded yet

    result = last_result(department=district.dept_a, code="NS-001", before_year=2022)

    assert (result.year, result.code, result.grade, result.source) == (2020, "NS-001", "fair", "self")
    assert result.score == Decimal("72.30")
    assert result.grade_label == "中"
    assert result.recommendation.text == "压减预算 10%"
    assert result.recommendation.cut_percent == Decimal("10")


@pytest.mark.parametrize(
    ("grade", "label", "action", "text"),
    [
        ("excellent", "优", "priority", "优先保障"),
        ("good", "良", "keep", "保持预算规模"),
        ("fair", "中", "cut", "压减预算 10%"),
        ("poor", "差", "cancel", "取消或调整用途"),
    ],
)
def test_last_result_carries_the_settings_recommendation_when_graded(district, grade, label, action, text):
    self_graded(district, earlier(district, year=2021, code="NS-002"), grade)

    result = last_result(department=district.dept_a.pk, code=" NS-002 ", before_year=2022)

    assert (result.grade_label, result.recommendation.action, result.recommendation.text) == (label, action, text)


def test_last_result_follows_the_settings_when_the_cut_changes(district, settings):
    settings.JIXIAO = {
        **settings.JIXIAO,
        "EVALUATION": {
            **settings.JIXIAO["EVALUATION"],
            "RECOMMENDATIONS": {
                **settings.JIXIAO["EVALUATION"]["RECOMMENDATIONS"],
                "fair": {"action": "cut", "label": "压减预算", "cut_percent": Decimal("15")},
            },
        },
    }
    self_graded(district, earlier(district, year=2021, code="NS-003"), "fair")

    assert (
        last_result(department=district.dept_a, code="NS-003", before_year=2022).recommendation.text == "压减预算 15%"
    )


def test_last_result_takes_the_recheck_then_the_key_evaluation_over_the_self_grade(district, agency):
    project = earlier(district, year=2021, code="NS-004")
    se = self_graded(district, project, "excellent")
    recheck = rechecked(district, agency, se, "fair", status=RecheckStatus.FED_BACK)
    assert last_result(department=district.dept_a, code="NS-004", before_year=2022).source == "self"

    Recheck.objects.filter(pk=recheck.pk).update(status=RecheckStatus.FINAL)
    result = last_result(department=district.dept_a, code="NS-004", before_year=2022)
    assert (result.source, result.grade, result.score) == ("recheck", "fair", Decimal("72.80"))

    key_evaluated(district, agency, project, "poor")
    result = last_result(department=district.dept_a, code="NS-004", before_year=2022)
    assert (result.source, result.grade, result.recommendation.text) == ("key", "poor", "取消或调整用途")
    assert recommendation_for(project) == result.recommendation


@pytest.mark.parametrize("case", ["no_earlier", "same_year", "not_accepted", "key_not_final", "other_code"])
def test_last_result_is_none_when_there_is_no_earlier_grade(district, agency, case):
    if case == "same_year":
        self_graded(district, earlier(district, year=2022, code="NS-005"), "fair")
    elif case == "not_accepted":
        self_graded(
            district, earlier(district, year=2021, code="NS-005"), "fair", status=SelfEvaluationStatus.SUBMITTED
        )
    elif case == "key_not_final":
        key_evaluated(
            district, agency, earlier(district, year=2021, code="NS-005"), "poor", status=EvaluationStatus.FIELDWORK
        )
    elif case == "other_code":
        self_graded(district, earlier(district, year=2021, code="NS-006"), "fair")

    assert last_result(department=district.dept_a, code="NS-005", before_year=2022) is None
    assert last_result(department=district.dept_a, code="", before_year=2022) is None


def test_last_result_ignores_another_departments_project_when_codes_match(district):
    self_graded(district, earlier(district, year=2021, code="NS-007", dept="b"), "poor")

    assert last_result(department=district.dept_a, code="NS-007", before_year=2022) is None
    assert last_result(department=district.dept_b, code="NS-007", before_year=2022).grade == "poor"


# -- similar_failed_one_offs ------------------------------------------------------------------


def similar(district, name="2022年社区养老服务补贴", dept=None, category="civil_affairs", before_year=2022):
    return similar_failed_one_offs(
        department=dept or district.dept_a, name=name, category=category, before_year=before_year
    )


def test_similar_failed_warns_of_a_one_off_graded_poor_when_the_name_is_alike(district):
    failed = earlier(district, year=2020, code="YC-2020-01", name="2020年社区养老服务补贴")
    self_graded(district, failed, "poor")

    [found] = similar(district)

    assert (found.year, found.code, found.name, found.grade_label) == (
        2020,
        "YC-2020-01",
        "2020年社区养老服务补贴",
        "差",
    )
    assert found.project.pk == failed.pk and found.similarity == 1.0


@pytest.mark.parametrize(
    ("case", "kw", "grade"),
    [
        ("recurring", {"recurrence": "recurring"}, "poor"),
        ("dissimilar name", {"name": "道路桥梁维修工程"}, "poor"),
        ("other category", {"category": "health"}, "poor"),
        ("other department", {"dept": "b"}, "poor"),
        ("graded fair", {}, "fair"),
        ("same year", {"year": 2022}, "poor"),
    ],
)
def test_similar_failed_is_empty_when(district, case, kw, grade):
    self_graded(district, earlier(district, **{"year": 2020, **kw}), grade)

    assert similar(district) == []


def test_similar_failed_is_empty_when_a_recheck_lifted_the_poor_self_grade(district, agency):
    se = self_graded(district, earlier(district, year=2020), "poor")
    rechecked(district, agency, se, "fair")

    assert similar(district) == []


def test_similar_failed_counts_a_poor_key_evaluation_over_a_good_self_grade(district, agency):
    project = earlier(district, year=2020)
    self_graded(district, project, "good")
    key_evaluated(district, agency, project, "poor")

    [found] = similar(district)
    assert (found.source, found.grade) == ("key", "poor")


def test_similar_failed_follows_the_settings_threshold_and_category_rule(district, settings):
    self_graded(district, earlier(district, year=2020, name="社区居家养老服务补贴", category="health"), "poor")
    assert similar(district) == []  # another category

    settings.JIXIAO = {**settings.JIXIAO, "RESULTS": {"SIMILAR_NAME_RATIO": 0.6, "SIMILAR_SAME_CATEGORY": False}}
    [found] = similar(district)
    assert 0.6 <= found.similarity < 1

    settings.JIXIAO = {**settings.JIXIAO, "RESULTS": {"SIMILAR_NAME_RATIO": 0.95, "SIMILAR_SAME_CATEGORY": False}}
    assert similar(district) == []


def test_similar_failed_lists_the_most_recent_first_when_several_failed(district):
    for year, name in ((2018, "社区养老服务补贴"), (2020, "社区养老服务补助"), (2019, "街道养老服务补贴")):
        self_graded(district, earlier(district, year=year, name=name), "poor")

    assert [r.year for r in similar(district)] == [2020, 2019, 2018]


def test_name_similarity_ignores_years_and_spaces_when_comparing():
    assert name_similarity("2020年社区养老服务补贴", "2022年度 社区养老服务补贴") == 1.0
    assert name_similarity("社区养老服务补贴", "道路桥梁维修工程") < 0.2
    assert name_similarity("2020年", "社区养老服务补贴") == 0.0


# -- the project's own view, visibility and query count ----------------------------------------


def test_results_for_a_project_reads_its_own_department_and_earlier_years(district):
    self_graded(district, earlier(district, year=2021, code="NS-010", recurrence="recurring"), "fair")
    self_graded(district, earlier(district, year=2020, name="社区养老服务补贴"), "poor")
    self_graded(district, earlier(district, year=2021, code="NS-011", name="社区养老服务补贴", dept="b"), "poor")
    project = earlier(district, year=2022, code="NS-010", name="社区养老服务补贴", recurrence="recurring")

    results = results_for(project)

    assert results.last.grade == "fair" and results.last.project.department_id == district.dept_a.pk
    assert [r.year for r in results.similar_failed] == [2020]
    assert bool(results)
    other = earlier(district, year=2022, code="NS-012", name="道路桥梁维修工程", dept="b")
    assert not results_for(other)


def test_results_are_visible_to_the_department_and_the_finance_section_only(district):
    project = earlier(district, year=2022)

    assert results_visible_to(district.staff_a, project) and results_visible_to(district.leader_a, project)
    assert results_visible_to(district.finance, project) and results_visible_to(district.supervisor, project)
    assert not results_visible_to(district.staff_b, project)
    assert not results_visible_to(district.agency_staff, project)
    assert not results_visible_to(district.expert, project)


def test_results_take_a_fixed_number_of_queries_when_earlier_years_grow(district, agency):
    project = earlier(district, year=2022, code="NS-020", name="社区养老服务补贴", recurrence="recurring")
    self_graded(district, earlier(district, year=2021, code="NS-020", recurrence="recurring"), "fair")
    self_graded(district, earlier(district, year=2020, name="社区养老服务补贴"), "poor")
    with CaptureQueriesContext(connection) as few:
        small = results_for(project)

    for year in (2015, 2016, 2017, 2018, 2019):
        self_graded(district, earlier(district, year=year, code="NS-020", recurrence="recurring"), "good")
        se = self_graded(district, earlier(district, year=year, name=f"社区养老服务补贴{year}"), "poor")
        rechecked(district, agency, se, "poor")
    with CaptureQueriesContext(connection) as many:
        large = results_for(project)

    assert len(small.similar_failed) == 1 and len(large.similar_failed) == 6
    assert len(many.captured_queries) == len(few.captured_queries) <= 8
