"""Results application 结果应用 (DESIGN §3.7): what a project's grade means for next year.

A graded project's *grade of record* is that of a finished key evaluation (重点评价), else
of a final re-check (复核), else of an accepted self-evaluation (绩效自评); each grade carries
the settings' recommendation for next year's budget (JIXIAO["EVALUATION"]["RECOMMENDATIONS"]:
优 priority, 良 keep, 中 cut by a percentage, 差 cancel or redirect).

When a department submits next year's project, two reads look back at its earlier years:

- ``last_result``: the project continued from an earlier year — the same ``code`` in the
  same department — and its most recent grade of record;
- ``similar_failed_one_offs``: earlier one-off projects of the department graded 差 whose
  name is similar (difflib ratio ≥ JIXIAO["RESULTS"]["SIMILAR_NAME_RATIO"], years and
  spaces ignored; the same category when JIXIAO["RESULTS"]["SIMILAR_SAME_CATEGORY"]). They
  warn; they never block the submission.

Both are scoped to one department, so a department only ever sees its own history; who may
see them on a project is ``results_visible_to``. Each costs a fixed number of queries
(at most four), whatever the number of earlier projects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from difflib import SequenceMatcher

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from accounts.models import Department, User

from .models import BudgetProject, CommissionedEvaluation, Recheck, Recurrence, SelfEvaluation
from .permissions import holds
from .states import EvaluationStatus, Grade, RecheckStatus, SelfEvaluationStatus

KEY_DONE = [EvaluationStatus.FINAL, EvaluationStatus.PUBLISHED]

#: The columns an earlier project is shown with (the stage too: django-fsm's concurrency
#: mixin reads it when a row is loaded, and would fetch it row by row if deferred).
PAST_COLUMNS = ("pk", "department_id", "fiscal_year", "code", "name", "category", "recurrence", "stage")


@dataclass(frozen=True)
class Recommendation:
    """A graded project's recommendation for next year's budget."""

    grade: str
    source: str  # "self" | "recheck" | "key"
    score: Decimal | None
    action: str
    label: str
    cut_percent: Decimal

    @property
    def grade_label(self) -> str:
        return str(Grade(self.grade).label)

    @property
    def source_label(self) -> str:
        return {"self": _("绩效自评"), "recheck": _("复核"), "key": _("重点评价")}[self.source]

    @property
    def text(self) -> str:
        label = _(self.label)
        if self.action == "cut":
            return _("%(label)s %(pct)s%%") % {"label": label, "pct": f"{self.cut_percent.normalize():f}"}
        return label


def _recommendation(grade: str, source: str, score: Decimal | None) -> Recommendation:
    rule = settings.JIXIAO["EVALUATION"]["RECOMMENDATIONS"][grade]
    return Recommendation(grade, source, score, rule["action"], rule["label"], Decimal(rule["cut_percent"]))


def grades_of_record(project_ids: Iterable[int]) -> dict[int, Recommendation]:
    """{project id: its grade of record and recommendation} for the graded ones among
    ``project_ids``. One query per source, and none for a source nobody is left to find."""
    left = set(project_ids)
    found: dict[int, Recommendation] = {}
    if left:
        keys = (
            CommissionedEvaluation.objects.filter(project_id__in=left, status__in=KEY_DONE)
            .exclude(grade="")
            .values_list("project_id", "grade", "score")
        )
        for pk, grade, score in keys:
            found[pk] = _recommendation(grade, "key", score)
        left -= set(found)
    if left:
        rechecks = (
            Recheck.objects.filter(project_id__in=left, status=RecheckStatus.FINAL)
            .exclude(final_grade="")
            .values_list("project_id", "final_grade", "final_score")
        )
        for pk, grade, score in rechecks:
            found[pk] = _recommendation(grade, "recheck", score)
        left -= set(found)
    if left:
        accepted = (
            SelfEvaluation.objects.filter(project_id__in=left, status=SelfEvaluationStatus.ACCEPTED)
            .exclude(grade="")
            .values_list("project_id", "grade", "score")
        )
        for pk, grade, score in accepted:
            found[pk] = _recommendation(grade, "self", score)
    return found


def recommendation_for(project: BudgetProject) -> Recommendation | None:
    """The project's grade of record and the settings' recommendation for it; None if ungraded."""
    return grades_of_record([project.pk]).get(project.pk)


# -- next year's submission ------------------------------------------------------------------


@dataclass(frozen=True)
class PastResult:
    """An earlier year's project of the department and its grade of record."""

    project: BudgetProject  # only PAST_COLUMNS are loaded
    recommendation: Recommendation
    #: How alike its name is to the new project's (0–1); only for similar_failed_one_offs.
    similarity: float | None = None

    @property
    def year(self) -> int:
        return self.project.fiscal_year

    @property
    def code(self) -> str:
        return self.project.code

    @property
    def name(self) -> str:
        return self.project.name

    @property
    def grade(self) -> str:
        return self.recommendation.grade

    @property
    def grade_label(self) -> str:
        return self.recommendation.grade_label

    @property
    def score(self) -> Decimal | None:
        return self.recommendation.score

    @property
    def source(self) -> str:
        return self.recommendation.source

    @property
    def source_label(self) -> str:
        return self.recommendation.source_label


def last_result(*, department: Department | int, code: str, before_year: int) -> PastResult | None:
    """The most recent project before ``before_year`` with ``code`` in ``department`` that has
    a grade of record (the project this submission continues), or None."""
    code = (code or "").strip()
    if not code:
        return None
    earlier = list(
        BudgetProject.objects.filter(department=department, code=code, fiscal_year__lt=before_year)
        .only(*PAST_COLUMNS)
        .order_by("-fiscal_year")
    )
    graded = grades_of_record(p.pk for p in earlier) if earlier else {}
    for project in earlier:
        if project.pk in graded:
            return PastResult(project, graded[project.pk])
    return None


_YEAR = re.compile(r"(19|20)\d{2}\s*年度?")
_SPACE = re.compile(r"\s+")


def comparable_name(name: str) -> str:
    """A project name as similarity sees it: without years (2020年, 2021年度) and spaces,
    so that 「2020年某某补助」 and 「2022年度某某补助」 count as the same name."""
    return _SPACE.sub("", _YEAR.sub("", name or ""))


def name_similarity(a: str, b: str) -> float:
    """difflib's ratio of the two comparable names (0 when either is empty)."""
    a, b = comparable_name(a), comparable_name(b)
    if not a or not b:
        return 0.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def similar_failed_one_offs(
    *, department: Department | int, name: str, category: str, before_year: int
) -> list[PastResult]:
    """Earlier one-off projects of ``department`` whose grade of record is 差 and whose name is
    similar to ``name`` (JIXIAO["RESULTS"]), most recent first. A warning, not a refusal."""
    rule = settings.JIXIAO["RESULTS"]
    if not comparable_name(name):
        return []
    poor = Grade.POOR
    # Only projects graded 差 by some source are read; the grade of record decides below
    # (a 差 self-evaluation re-checked as 中 is not 差).
    candidates = BudgetProject.objects.filter(
        department=department, recurrence=Recurrence.ONE_OFF, fiscal_year__lt=before_year
    ).filter(
        Q(Exists(CommissionedEvaluation.objects.filter(project=OuterRef("pk"), status__in=KEY_DONE, grade=poor)))
        | Q(Exists(Recheck.objects.filter(project=OuterRef("pk"), status=RecheckStatus.FINAL, final_grade=poor)))
        | Q(
            Exists(
                SelfEvaluation.objects.filter(project=OuterRef("pk"), status=SelfEvaluationStatus.ACCEPTED, grade=poor)
            )
        )
    )
    if rule["SIMILAR_SAME_CATEGORY"]:
        candidates = candidates.filter(category=category)
    threshold = float(rule["SIMILAR_NAME_RATIO"])
    similar = []
    for project in candidates.only(*PAST_COLUMNS):
        ratio = name_similarity(name, project.name)
        if ratio >= threshold:
            similar.append((project, ratio))
    graded = grades_of_record(p.pk for p, _ratio in similar) if similar else {}
    found = [
        PastResult(project, graded[project.pk], round(ratio, 2))
        for project, ratio in similar
        if project.pk in graded and graded[project.pk].grade == poor
    ]
    return sorted(found, key=lambda r: (-r.year, -(r.similarity or 0), r.code))


@dataclass(frozen=True)
class ResultsApplication:
    """What a submission for ``fiscal_year`` is shown of the department's earlier years."""

    last: PastResult | None = None
    similar_failed: list[PastResult] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.last is not None or bool(self.similar_failed)


def results_application(
    *, department: Department | int, fiscal_year: int | None, code: str = "", name: str = "", category: str = ""
) -> ResultsApplication:
    """``last_result`` and ``similar_failed_one_offs`` of a submission (nothing without a year)."""
    if fiscal_year is None:
        return ResultsApplication()
    return ResultsApplication(
        last=last_result(department=department, code=code, before_year=fiscal_year),
        similar_failed=similar_failed_one_offs(
            department=department, name=name, category=category, before_year=fiscal_year
        ),
    )


def results_for(project: BudgetProject) -> ResultsApplication:
    """The results application of a saved project: its department's earlier years."""
    return results_application(
        department=project.department_id,
        fiscal_year=project.fiscal_year,
        code=project.code,
        name=project.name,
        category=project.category,
    )


def results_visible_to(user: User, project: BudgetProject) -> bool:
    """Who is shown a project's earlier years: its own department, and the bureau-wide readers
    (the finance officers who take the project in). Agencies and experts who see the project
    for a review see its file, not the department's history."""
    if holds(user, "processes.view_all_projects"):
        return True
    return user.is_department_user and user.department_id is not None and user.department_id == project.department_id
