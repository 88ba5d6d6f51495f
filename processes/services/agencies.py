"""Third-party agencies managed (issue 19 §4): the one writer of FrameworkCommission (the
year's 整体委托). Set or changed by the finance section, audited each time, the agency's
staff told; read by the commission and re-check sample screens to pre-fill the agency."""

from __future__ import annotations

import io
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from openpyxl import Workbook

from accounts.models import Agency, User
from accounts.roles import Role

from .. import messages, transitions
from ..fiscal_years import check_fiscal_year
from ..models import CommissionedEvaluation, Deliverable, DeliverableScore, FrameworkCommission, Recheck
from ..notices import agency_staff, everyone
from ..permissions import commissioned as perms
from ..permissions import evaluation as ev_perms
from ..scoring import grade_of
from ..states import EvaluationStatus, Grade, RecheckStatus
from .audit import audit_and_notify

FRAMEWORK_SET = gettext_noop("%(year)s 年度绩效评价整体委托给本机构，承担当年的复核和重点评价工作")
FRAMEWORK_LOST = gettext_noop("%(year)s 年度绩效评价整体委托已改由其他机构承担")


def can_manage(user: User) -> bool:
    """财政绩效科 contracts the year's agency (the same permission as commissioning)."""
    return perms.can_commission(user)


def framework_of(fiscal_year: int | None) -> FrameworkCommission | None:
    """The framework commission of ``fiscal_year``, if one is contracted."""
    if fiscal_year is None:
        return None
    return FrameworkCommission.objects.select_related("agency").filter(fiscal_year=fiscal_year).first()


def framework_agency(fiscal_year: int | None) -> Agency | None:
    """The agency a new commission or re-check sample of ``fiscal_year`` is pre-filled with."""
    found = framework_of(fiscal_year)
    return found.agency if found is not None else None


@transaction.atomic
def framework_set(
    *, actor: User, fiscal_year: Any, agency: Agency | None, contract_no: str = "", scope: str = ""
) -> FrameworkCommission:
    """Contract (or change) the year's framework commission. The new agency's staff are
    told; when the agency changes, the former one's too. Every field checked at once
    (ValidationError keyed by field); a refused call writes nothing."""
    if not can_manage(actor):
        raise PermissionDenied(_("只有财政绩效科可以办理整体委托。"))
    errors: dict[str, str] = {}
    year: int | None = None
    try:
        year = check_fiscal_year(fiscal_year)
    except ValidationError as exc:
        errors["fiscal_year"] = " ".join(exc.messages)
    if agency is None:
        errors["agency"] = _("请选择第三方机构。")
    elif agency.status != Agency.Status.ACTIVE:
        errors["agency"] = _("该机构已暂停，不能委托。")
    contract_no = (contract_no or "").strip()
    scope = (scope or "").strip()
    if len(contract_no) > 64:
        errors["contract_no"] = _("合同编号不能超过 64 个字符。")
    if len(scope) > 5000:
        errors["scope"] = _("委托范围不能超过 5000 个字符。")
    if errors:
        raise ValidationError(errors)
    assert year is not None and agency is not None
    existing = FrameworkCommission.objects.select_for_update().filter(fiscal_year=year).first()
    former = existing.agency if existing is not None else None
    try:
        with transaction.atomic():
            if existing is None:
                framework = FrameworkCommission.objects.create(
                    fiscal_year=year, agency=agency, contract_no=contract_no, scope=scope, set_by=actor
                )
            else:
                framework = existing
                framework.agency = agency
                framework.contract_no = contract_no
                framework.scope = scope
                framework.set_by = actor
                framework.revision += 1
                framework.save()
    except IntegrityError as exc:  # a concurrent first contract of the same year won
        raise ValidationError({"fiscal_year": _("该年度的整体委托刚被他人设置，请刷新后重试。")}) from exc
    told = everyone(agency_staff(agency.pk), messages.plain("approved", FRAMEWORK_SET, year=year))
    if former is not None and former.pk != agency.pk:
        told.update(everyone(agency_staff(former.pk), messages.plain("stage_changed", FRAMEWORK_LOST, year=year)))
    audit_and_notify(
        obj=framework,
        action="framework_commission",
        actor=actor,
        role=transitions.acting_role(actor, [Role.FINANCE_OFFICER]),
        from_state=former.name if former is not None else "",
        to_state=agency.name,
        url=reverse("workflows:framework_commissions"),
        detail={"fiscal_year": year, "agency": agency.pk, "contract_no": contract_no},
        told=told,
    )
    return framework


# -- quality scores and the yearly rating ------------------------------------------------------

QUALITY_SCORED = gettext_noop(
    "财政绩效科对「%(subject)s」的%(deliverable)s作出质量评分：%(score)s 分。意见：%(comment)s"
)

#: The weight of one deliverable of each kind in the yearly rating (decision 0028): the
#: final report counts twice — it is what is published and what results rest on.
RATING_WEIGHTS: dict[str, Decimal] = {
    Deliverable.PLAN: Decimal(1),
    Deliverable.DRAFT: Decimal(1),
    Deliverable.FINAL: Decimal(2),
    Deliverable.RECHECK: Decimal(1),
}
#: Which statuses show a commissioned evaluation's deliverable was handed in.
_HANDED_IN: dict[str, tuple[str, ...]] = {
    Deliverable.PLAN: tuple(s for s in EvaluationStatus.values if s not in ("commissioned", "plan_submitted")),
    Deliverable.DRAFT: ("draft_report", "dept_commented", "expert_review", "final", "published"),
    Deliverable.FINAL: ("final", "published"),
}
CENT = Decimal("0.01")


def _score_value(value: Any, errors: dict[str, str]) -> Decimal | None:
    try:
        score = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        score = None
    if score is None or not score.is_finite() or not Decimal(0) <= score <= Decimal(100):
        errors["score"] = _("质量得分应为 0 至 100 之间的数。")
        return None
    if score != score.quantize(CENT):
        errors["score"] = _("质量得分最多两位小数。")
        return None
    return score.quantize(CENT)


@transaction.atomic
def quality_score(
    *,
    actor: User,
    kind: str,
    score: Any,
    comment: str = "",
    evaluation: CommissionedEvaluation | None = None,
    recheck: Recheck | None = None,
) -> DeliverableScore:
    """The finance section scores one handed-in deliverable (0–100, two decimals) with a
    comment: a commissioned evaluation's plan (once approved), draft (once submitted) or
    final report (once final), or a finished re-check. Scoring it again replaces the score
    (revision + 1). Audited on the deliverable's evaluation or re-check; the agency's staff
    are told. Every field checked at once; a refused call writes nothing."""
    if not can_manage(actor):
        raise PermissionDenied(_("只有财政绩效科可以对第三方机构的成果评分。"))
    errors: dict[str, str] = {}
    value = _score_value(score, errors)
    comment = (comment or "").strip()
    if len(comment) > 2000:
        errors["comment"] = _("评分意见不能超过 2000 个字。")
    locked_recheck: Recheck | None = None
    locked_evaluation: CommissionedEvaluation | None = None
    target: CommissionedEvaluation | Recheck
    if kind == Deliverable.RECHECK:
        if recheck is None:
            raise ValidationError({"kind": _("请指定复核。")})
        locked_recheck = (
            Recheck.objects.select_for_update().select_related("sample__campaign", "sample__agency").get(pk=recheck.pk)
        )
        if locked_recheck.status != RecheckStatus.FINAL:
            errors["kind"] = _("复核完成后才能评分。")
        agency, year = locked_recheck.sample.agency, locked_recheck.sample.campaign.fiscal_year
        subject, target = str(locked_recheck.project), locked_recheck
    elif kind in _HANDED_IN:
        if evaluation is None:
            raise ValidationError({"kind": _("请指定委托评价。")})
        locked_evaluation = (
            CommissionedEvaluation.objects.select_for_update().select_related("agency").get(pk=evaluation.pk)
        )
        if locked_evaluation.status not in _HANDED_IN[kind]:
            errors["kind"] = _("该成果尚未提交（或尚未通过审核），不能评分。")
        agency, year = locked_evaluation.agency, locked_evaluation.fiscal_year
        subject, target = locked_evaluation.title, locked_evaluation
    else:
        raise ValidationError({"kind": _("请选择成果类型。")})
    if errors:
        raise ValidationError(errors)
    assert value is not None
    if locked_recheck is not None:
        found = DeliverableScore.objects.filter(recheck=locked_recheck).first()
    else:
        found = DeliverableScore.objects.filter(evaluation=locked_evaluation, kind=kind).first()
    before = str(found.score) if found is not None else ""
    if found is None:
        found = DeliverableScore(
            agency=agency,
            fiscal_year=year,
            kind=kind,
            evaluation=locked_evaluation,
            recheck=locked_recheck,
            score=value,
            comment=comment,
            scored_by=actor,
        )
    else:
        found.score, found.comment, found.scored_by = value, comment, actor
        found.revision += 1
    found.save()
    label = Deliverable(kind).label
    with translation.override(settings.LANGUAGE_CODE):
        kind_text = str(label)
    told = everyone(
        agency_staff(agency.pk),
        messages.plain(
            "stage_changed",
            QUALITY_SCORED,
            ("deliverable",),
            subject=subject,
            deliverable=kind_text,
            score=str(value),
            comment=comment or "—",
        ),
    )
    audit_and_notify(
        obj=target,
        action="quality_score",
        actor=actor,
        role=transitions.acting_role(actor, [Role.FINANCE_OFFICER]),
        from_state=before,
        to_state=str(value),
        url=target.get_absolute_url(),
        comment=comment,
        detail={"kind": kind, "score": str(value), "agency": agency.pk, "fiscal_year": year},
        told=told,
    )
    return found


def scorable_kinds(evaluation: CommissionedEvaluation) -> list[str]:
    """The deliverables of ``evaluation`` handed in by now (those that may be scored)."""
    return [kind for kind, statuses in _HANDED_IN.items() if evaluation.status in statuses]


def may_see_scores(evaluation: CommissionedEvaluation, user: User) -> bool:
    """The finance section and the evaluation's own agency; never a department."""
    return can_manage(user) or perms.is_agency_of(evaluation, user)


def may_see_recheck_score(recheck: Recheck, user: User) -> bool:
    """A re-check's quality score: the finance section and the re-checking agency's staff;
    never a department (not even the re-checked project's)."""
    return can_manage(user) or ev_perms.can_rescore(recheck, user)


def recheck_score_of(recheck: Recheck) -> DeliverableScore | None:
    """The quality score of a finished re-check, if the finance section gave one."""
    return DeliverableScore.objects.filter(recheck=recheck).select_related("scored_by").first()


def scores_of(evaluation: CommissionedEvaluation) -> dict[str, DeliverableScore]:
    """The quality scores of a commissioned evaluation's deliverables, by kind."""
    return {s.kind: s for s in DeliverableScore.objects.filter(evaluation=evaluation).select_related("scored_by")}


def agency_ratings(fiscal_year: int, *, agency_id: int | None = None) -> list[dict[str, Any]]:
    """The yearly rating of each agency scored in ``fiscal_year`` (decision 0028): the
    mean score per deliverable kind, the count, and the rating — the mean of all its
    deliverables' scores weighted by RATING_WEIGHTS, half-up to the cent — with its grade
    (processes.scoring.grade_of: 优 ≥ 90, 良 ≥ 80, 中 ≥ 60, else 差). One query."""
    rows = DeliverableScore.objects.filter(fiscal_year=fiscal_year)
    if agency_id is not None:
        rows = rows.filter(agency_id=agency_id)
    by_agency: dict[int, dict[str, Any]] = {}
    for s in rows.select_related("agency").order_by("agency__name", "kind"):
        entry = by_agency.setdefault(
            s.agency_id,
            {"agency": s.agency, "fiscal_year": fiscal_year, "scores": {k: [] for k in Deliverable.values}},
        )
        entry["scores"][s.kind].append(s.score)
    out = []
    for entry in by_agency.values():
        weighted = total_weight = Decimal(0)
        means: dict[str, Decimal | None] = {}
        count = 0
        for kind, values in entry["scores"].items():
            means[kind] = (sum(values, Decimal(0)) / len(values)).quantize(CENT, ROUND_HALF_UP) if values else None
            weighted += sum(values, Decimal(0)) * RATING_WEIGHTS[kind]
            total_weight += RATING_WEIGHTS[kind] * len(values)
            count += len(values)
        rating = (weighted / total_weight).quantize(CENT, ROUND_HALF_UP)
        out.append(
            {
                "agency": entry["agency"],
                "fiscal_year": fiscal_year,
                "means": means,
                "count": count,
                "rating": rating,
                "grade": grade_of(rating),
            }
        )
    out.sort(key=lambda r: (-r["rating"], r["agency"].name))
    return out


def ratings_xlsx(fiscal_year: int, rows: list[dict[str, Any]]) -> bytes:
    """第三方机构年度评级 workbook: one row per agency — the mean per deliverable kind, the
    number scored, the rating and its grade."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = str(_("机构评级"))[:31]
    sheet.append([_("%(year)s 年度第三方机构质量评级") % {"year": fiscal_year}])
    sheet.append(
        [str(_("第三方机构"))]
        + [str(label) for label in Deliverable.labels]
        + [str(_("评分成果数")), str(_("年度评级得分")), str(_("等次"))]
    )
    for row in rows:
        sheet.append(
            [row["agency"].name]
            + [float(row["means"][k]) if row["means"][k] is not None else None for k in Deliverable.values]
            + [row["count"], float(row["rating"]), str(Grade(row["grade"]).label)]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
