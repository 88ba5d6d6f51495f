"""Forms of the evaluation screens (绩效自评 and 复核, DESIGN §3.5), the checks made before a
campaign's background job is started, and the one score-sheet parser shared by the
self-evaluation and the re-check pages, their live preview and the API's preview.

The forms clean input only and keep what was typed as typed: amounts and values stay text
until processes.services.evaluation (or, for the preview, ``sheet_preview``) reads them.
The sheet's fields are named as the service names its errors — ``executed``, ``summary``,
``lines.<target row id>.actual|band|band_pct|deviation_reason|measure`` — so a refused
value comes back on its own field, exactly as it was entered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Agency, Department, User
from processes import scoring
from processes.form_fields import IdFormField, fiscal_year_formfield
from processes.forms import DepartmentFilterMixin, ServiceErrorsMixin, ShanghaiDateTimeField
from processes.models import Job, ScoreSheet, SelfEvaluation, finding_categories
from processes.services import evaluation
from processes.services.evaluation import SheetRow
from processes.services.jobs import job_start
from processes.states import (
    SECTION_OF_LEVEL1,
    Direction,
    Grade,
    QualitativeProgress,
    RecheckStatus,
    SampleMethod,
    ScoreSection,
    SelfEvaluationStatus,
)

CAMPAIGN_JOB = "evaluation_campaign_launch"
BLANK = [("", "—")]
MAX_TEXT = evaluation.MAX_TEXT


def number_text(value: Decimal | None) -> str:
    """A stored value as a person writes it: 12.5000 → "12.5"; None → ""."""
    return "" if value is None else f"{value.normalize():f}"


def amount_text(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"


def _amount_input(label, **attrs) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=40,
        # typed in 元, shown beside it in 万元 (static/js/wan_preview.js)
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "autocomplete": "off", "data-wan-preview": gettext_lazy("万元"), **attrs}
        ),
    )


# -- launching a campaign ------------------------------------------------------------------


class CampaignLaunchForm(ServiceErrorsMixin, forms.Form):
    """发起绩效自评: the year, the due date and a title."""

    fiscal_year = fiscal_year_formfield(label=gettext_lazy("预算年度"))
    due_at = ShanghaiDateTimeField(label=gettext_lazy("自评截止时间"), help_text=gettext_lazy("北京时间。"))
    title = forms.CharField(
        label=gettext_lazy("名称"),
        required=False,
        max_length=100,
        help_text=gettext_lazy("不填则为「某年度项目支出绩效自评」。"),
    )


def campaign_job_start(*, actor: User, fiscal_year: int, due_at: datetime, title: str = "") -> Job:
    """Check what launching would refuse (evaluation.campaign_check: the actor's right, the
    due date, a year with executing projects) so the answer comes at once, then queue the
    ``evaluation_campaign_launch`` job (its page shows the progress, then the campaigns).
    Raises PermissionDenied or ValidationError."""
    evaluation.campaign_check(actor=actor, fiscal_year=fiscal_year, due_at=due_at)
    return job_start(
        kind=CAMPAIGN_JOB,
        actor=actor,
        params={"fiscal_year": fiscal_year, "due_at": due_at.isoformat(), "title": (title or "").strip()},
    )


# -- the score sheet -----------------------------------------------------------------------


@dataclass
class RowView:
    """One indicator row as the sheet shows it: the approved target and what was entered."""

    row_id: int
    section: str
    name: str
    direction: str
    target_value: Decimal | None
    target_text: str
    unit: str
    weight: Decimal
    line: Any  # ScoreLine | None

    @property
    def qualitative(self) -> bool:
        return self.direction == Direction.QUALITATIVE

    @property
    def direction_display(self) -> str:
        return str(Direction(self.direction).label)

    @property
    def section_display(self) -> str:
        return str(ScoreSection(self.section).label)

    @property
    def target_display(self) -> str:
        if self.qualitative:
            return self.target_text
        return number_text(self.target_value)

    @classmethod
    def of(cls, sheet_row: SheetRow) -> RowView:
        row, line = sheet_row.row, sheet_row.line
        source = line if line is not None else row
        return cls(
            row_id=row.pk,
            section=line.section if line is not None else SECTION_OF_LEVEL1[row.level1],
            name=source.name,
            direction=source.direction,
            target_value=source.target_value,
            target_text=source.target_text,
            unit=source.unit,
            weight=source.weight,
            line=line,
        )


def rows_of(project, sheet: ScoreSheet | None) -> list[RowView]:
    """The sheet's rows: its saved lines, else the project's approved targets (two queries)."""
    return [RowView.of(r) for r in evaluation.sheet_rows(project, sheet)]


class SheetForm(ServiceErrorsMixin, forms.Form):
    """绩效自评表 (and the agency's 复核评分表): the executed amount, the overall summary, and
    per indicator the actual value — or for a qualitative one the band and the percent
    within it — with the deviation reason and the measure. Field names are the service's
    error keys."""

    revision = IdFormField(widget=forms.HiddenInput, required=False)
    executed = _amount_input(gettext_lazy("全年执行数（元）"), **{"data-sheet": "executed"})
    summary = forms.CharField(
        label=gettext_lazy("总体评价说明"),
        required=False,
        max_length=4 * MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, rows: list[RowView], **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            key = f"lines.{row.row_id}"
            if row.qualitative:
                self._add(
                    f"{key}.band",
                    forms.ChoiceField(
                        label=gettext_lazy("完成情况"), required=False, choices=[*BLANK, *QualitativeProgress.choices]
                    ),
                )
                self._add(
                    f"{key}.band_pct",
                    _amount_input(gettext_lazy("得分比例（%）"), placeholder=gettext_lazy("档内比例")),
                )
            else:
                self._add(f"{key}.actual", _amount_input(gettext_lazy("实际完成值")))
            for name, label in (("deviation_reason", gettext_lazy("偏差原因")), ("measure", gettext_lazy("改进措施"))):
                self._add(
                    f"{key}.{name}",
                    forms.CharField(
                        label=label, required=False, max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 1})
                    ),
                )

    def _add(self, name: str, field: forms.Field) -> None:
        field.widget.attrs.setdefault("aria-label", str(field.label or name))
        self.fields[name] = field

    def row_fields(self) -> dict[int, dict[str, forms.BoundField]]:
        """Per row id: its bound fields by short name (actual or band and band_pct, reason, measure)."""
        out: dict[int, dict[str, forms.BoundField]] = {}
        for row in self.rows:
            key = f"lines.{row.row_id}"
            names = ("band", "band_pct") if row.qualitative else ("actual",)
            out[row.row_id] = {n: self[f"{key}.{n}"] for n in (*names, "deviation_reason", "measure")}
        return out

    def service_kwargs(self) -> dict[str, Any]:
        """The save service's keyword arguments: values as typed (the service reads them)."""
        data = self.cleaned_data
        lines = []
        for row in self.rows:
            key = f"lines.{row.row_id}"
            item: dict[str, Any] = {
                "target_row": row.row_id,
                "deviation_reason": data.get(f"{key}.deviation_reason", ""),
                "measure": data.get(f"{key}.measure", ""),
            }
            if row.qualitative:
                item["band"] = data.get(f"{key}.band", "")
                item["band_pct"] = data.get(f"{key}.band_pct", "")
            else:
                item["actual"] = data.get(f"{key}.actual", "")
            lines.append(item)
        return {
            "executed": data.get("executed", ""),
            "summary": data.get("summary", ""),
            "lines": lines,
            "revision": data.get("revision") or None,
        }

    def entries(self) -> dict[str, Any]:
        """What was typed, as the services take it, read from the raw data (the preview and a
        refused form's re-render score exactly what the person sees, valid or not)."""
        data = self.data
        lines = []
        for row in self.rows:
            key = f"lines.{row.row_id}"
            item: dict[str, Any] = {"target_row": row.row_id}
            names = ("band", "band_pct") if row.qualitative else ("actual",)
            for name in names:
                item[name] = data.get(f"{key}.{name}", "")
            lines.append(item)
        return {"executed": data.get("executed", ""), "lines": lines}

    @classmethod
    def initial_from(cls, sheet: ScoreSheet | None, rows: list[RowView], *, revision: int, executed=None) -> dict:
        """The saved sheet; a sheet not saved yet starts from the project's executed amount."""
        initial: dict[str, Any] = {
            "revision": revision,
            "executed": amount_text(sheet.executed if sheet is not None else executed),
            "summary": sheet.summary if sheet is not None else "",
        }
        for row in rows:
            line = row.line
            if line is None:
                continue
            key = f"lines.{row.row_id}"
            initial[f"{key}.actual"] = number_text(line.actual_value)
            initial[f"{key}.band"] = line.band
            initial[f"{key}.band_pct"] = number_text(line.band_pct)
            initial[f"{key}.deviation_reason"] = line.deviation_reason
            initial[f"{key}.measure"] = line.measure
        return initial


def _parse(raw: Any) -> tuple[Decimal | None, bool]:
    """A typed number (commas allowed) and whether it could be read."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, True
    try:
        value = Decimal(str(raw).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None, False
    return (value, True) if value.is_finite() else (None, False)


class SelfEvaluationSheetForm(SheetForm):
    """The department's 绩效自评表: the sheet, and the reason when the executed amount typed
    differs from the year's imported payments (the prefill rule)."""

    executed_reason = forms.CharField(
        label=gettext_lazy("执行数差异说明"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("执行数取自国库支付数据；填报的执行数与之不同时必须说明原因。"),
    )

    def service_kwargs(self) -> dict[str, Any]:
        return {**super().service_kwargs(), "executed_reason": self.cleaned_data.get("executed_reason", "")}

    @classmethod
    def initial_from(cls, sheet: ScoreSheet | None, rows: list[RowView], *, revision: int, executed=None) -> dict:
        return {
            **super().initial_from(sheet, rows, revision=revision, executed=executed),
            "executed_reason": sheet.executed_reason if sheet is not None else "",
        }


def sheet_preview(*, rows: list[RowView], budget: Decimal | None, executed: Any, lines: Any) -> dict[str, Any]:
    """Score what was typed, without saving (the page's live total and the API's preview):
    the same entries the save service takes (``executed``, ``lines`` of ``target_row`` with
    ``actual`` or ``band``/``band_pct``) through processes.scoring.score_sheet. Unreadable
    numbers and unknown rows are issues, keyed as the service keys them."""
    issues: dict[str, list[str]] = {}
    executed_value, ok = _parse(executed)
    if not ok:
        issues["executed"] = [_("请填写数字金额（元）。")]
    entered: dict[int, Any] = {}
    for item in lines or []:
        try:
            entered[int(item.get("target_row"))] = item
        except (TypeError, ValueError, AttributeError):
            issues.setdefault("lines", []).append(_("指标行无效。"))
    scoring_lines = []
    for row in rows:
        item = entered.get(row.row_id) or {}
        key = f"lines.{row.row_id}"
        actual = band_pct = None
        band = ""
        if row.qualitative:
            band = str(item.get("band") or "")
            band_pct, ok = _parse(item.get("band_pct"))
            if not ok:
                issues.setdefault(f"{key}.band_pct", []).append(_("得分比例必须是数字。"))
            if band and band not in QualitativeProgress.values:
                issues.setdefault(f"{key}.band", []).append(_("请选择达成、部分达成或未达成。"))
                band = ""
        else:
            actual, ok = _parse(item.get("actual"))
            if not ok:
                issues.setdefault(f"{key}.actual", []).append(_("实际完成值必须是数字。"))
        scoring_lines.append(
            scoring.Line(
                key=row.row_id,
                section=row.section,
                direction=row.direction,
                weight=row.weight,
                target=row.target_value,
                actual=actual,
                band=band,
                band_pct=band_pct,
            )
        )
    score = scoring.score_sheet(
        budget=budget, executed=executed_value, lines=scoring_lines, weights=scoring.Weights.from_settings()
    )
    for key, messages in score.issues.items():
        issues.setdefault(key, []).extend(m for m in messages if m not in issues.get(key, []))
    return {
        "execution_rate": score.execution_rate,
        "execution": score.execution,
        "output": score.output,
        "outcome": score.outcome,
        "satisfaction": score.satisfaction,
        "total": score.total,
        "grade": score.grade or "",
        "grade_display": str(Grade(score.grade).label) if score.grade else "",
        "complete": not issues,
        "lines": {str(ls.key): {"points": ls.points, "score": ls.score} for ls in score.lines},
        "issues": issues,
    }


# -- reviews, opinions, feedback, findings --------------------------------------------------


class CommentForm(ServiceErrorsMixin, forms.Form):
    """审核意见 (a return needs one)."""

    comment = forms.CharField(
        label=gettext_lazy("审核意见（退回时必填）"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class OpinionForm(ServiceErrorsMixin, forms.Form):
    """复核意见 of the agency, required on submission."""

    opinion = forms.CharField(
        label=gettext_lazy("复核意见"),
        required=False,
        max_length=4 * MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class FeedbackForm(ServiceErrorsMixin, forms.Form):
    """部门反馈意见: empty means no objection (无异议)."""

    comment = forms.CharField(
        label=gettext_lazy("反馈意见"),
        required=False,
        max_length=4 * MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("不填即为无异议。"),
    )


class RecheckFinalizeForm(ServiceErrorsMixin, forms.Form):
    """完成复核: the agency's 复核报告 (optional; checked by the service like every upload)."""

    report = forms.FileField(
        label=gettext_lazy("复核报告"),
        required=False,
        help_text=gettext_lazy("PDF、图片或 Office 文件，不超过 20 MB；批准公开年度汇总表后向社会公开。"),
    )


class FindingForm(ServiceErrorsMixin, forms.Form):
    """评价发现的问题: category, problem, basis, requirement (the service checks them all)."""

    category = forms.ChoiceField(label=gettext_lazy("问题类别"), required=False, choices=())
    problem = forms.CharField(
        label=gettext_lazy("存在问题"), required=False, max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 2})
    )
    basis = forms.CharField(
        label=gettext_lazy("依据"), required=False, max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 1})
    )
    requirement = forms.CharField(
        label=gettext_lazy("整改要求"), required=False, max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["category"]).choices = [("", gettext_lazy("请选择")), *finding_categories()]


# -- lists and sampling --------------------------------------------------------------------


def _departments_field(label, *, multiple: bool = False) -> forms.Field:
    if multiple:
        return forms.ModelMultipleChoiceField(label=label, required=False, queryset=Department.objects.none())
    return forms.ModelChoiceField(
        label=label, required=False, queryset=Department.objects.none(), empty_label=gettext_lazy("全部部门")
    )


class SelfEvaluationFilterForm(DepartmentFilterMixin, forms.Form):
    """The campaign's self-evaluation filters (GET): department (bureau-wide readers), status, grade."""

    department = _departments_field(gettext_lazy("预算部门"))
    status = forms.ChoiceField(
        label=gettext_lazy("状态"), required=False, choices=[("", gettext_lazy("全部")), *SelfEvaluationStatus.choices]
    )
    grade = forms.ChoiceField(
        label=gettext_lazy("等次"), required=False, choices=[("", gettext_lazy("全部")), *Grade.choices]
    )

    def filters(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        department = data.get("department")
        return {
            "department": department.pk if department else None,
            "status": data.get("status") or None,
            "grade": data.get("grade") or None,
        }


class RecheckFilterForm(forms.Form):
    """The campaign's re-check filters (GET): department, status."""

    department = _departments_field(gettext_lazy("预算部门"))
    status = forms.ChoiceField(
        label=gettext_lazy("状态"), required=False, choices=[("", gettext_lazy("全部")), *RecheckStatus.choices]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["department"])
        field.queryset = Department.objects.only("pk", "code", "name").order_by("code")


class RecheckSampleForm(ServiceErrorsMixin, forms.Form):
    """抽取复核项目: chosen by hand (ticked self-evaluations) or ``size`` at random (an optional
    seed, department and grade filters), an agency and a due date."""

    method = forms.ChoiceField(
        label=gettext_lazy("抽取方式"),
        choices=SampleMethod.choices,
        initial=SampleMethod.RANDOM,
        widget=forms.RadioSelect,
    )
    agency = forms.ModelChoiceField(label=gettext_lazy("第三方机构"), queryset=Agency.objects.none(), empty_label=None)
    due_at = ShanghaiDateTimeField(label=gettext_lazy("复核截止时间"), help_text=gettext_lazy("北京时间。"))
    size = forms.IntegerField(label=gettext_lazy("抽取数量"), required=False, min_value=1, max_value=100000)
    seed = forms.IntegerField(
        label=gettext_lazy("随机种子"),
        required=False,
        min_value=0,
        max_value=2**62,
        help_text=gettext_lazy("不填则由系统生成并记录，可据此重现抽取结果。"),
    )
    departments = _departments_field(gettext_lazy("限定部门"), multiple=True)
    grades = forms.MultipleChoiceField(
        label=gettext_lazy("限定自评等次"), required=False, choices=Grade.choices, widget=forms.CheckboxSelectMultiple
    )
    self_evaluations = forms.TypedMultipleChoiceField(
        label=gettext_lazy("选取的自评"), required=False, coerce=int, choices=[], widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, pool: list[SelfEvaluation] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        agency = cast(forms.ModelChoiceField, self.fields["agency"])
        agency.queryset = Agency.objects.filter(status=Agency.Status.ACTIVE).order_by("name")
        departments = cast(forms.ModelMultipleChoiceField, self.fields["departments"])
        departments.queryset = Department.objects.only("pk", "code", "name").order_by("code")
        self.pool = pool or []
        # Any id may be posted (the pool shown is filtered and capped): the service judges.
        cast(forms.TypedMultipleChoiceField, self.fields["self_evaluations"]).valid_value = (  # type: ignore[method-assign]
            lambda value: str(value).isdigit()
        )

    def clean(self):
        data = super().clean() or {}
        if data.get("method") == SampleMethod.MANUAL and not data.get("self_evaluations"):
            self.add_error("self_evaluations", _("请至少选择一个项目。"))
        if data.get("method") == SampleMethod.RANDOM and not data.get("size"):
            self.add_error("size", _("请填写抽取数量。"))
        return data

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        kwargs: dict[str, Any] = {"agency": data["agency"], "due_at": data["due_at"]}
        if data["method"] == SampleMethod.MANUAL:
            kwargs["self_evaluation_ids"] = data["self_evaluations"]
        else:
            kwargs.update(
                size=data["size"],
                seed=data.get("seed"),
                departments=[d.pk for d in data.get("departments") or []],
                grades=data.get("grades") or [],
            )
        return kwargs
