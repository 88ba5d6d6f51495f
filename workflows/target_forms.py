"""Forms of the targets screens (绩效目标, DESIGN §3.3). They clean input only and keep what
was typed as typed (numbers stay text until the service reads them); the rules — levels,
directions, values, weights, completeness — are processes.services.targets', whose
ValidationError keys (``rows.<i>.<field>``, ``overall_goal`` …) these forms place on the
right field."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from processes.form_fields import IdFormField
from processes.forms import ServiceErrorsMixin
from processes.models import TargetRow, TargetSet
from processes.services.targets import EDITABLE_ON_RATING, targets_settings
from processes.states import QUANTITATIVE, Direction, IndicatorLevel1, IndicatorLevel2, TargetRating

BLANK = [("", "—")]

#: What each rating means for the version (shown beside the choice).
RATING_HELP = {
    TargetRating.EXCELLENT: _("目标设置合理，直接审核通过。"),
    TargetRating.GOOD: _("按商定意见修改后通过：可在下表修改指标值、计量单位和权重，修改前后将一并记录。"),
    TargetRating.FAIR: _("退回部门修改后重新提交审核。"),
    TargetRating.POOR: _("审核不通过：首次填报的项目不能纳入预算；变更申请则维持原目标。"),
}


#: The row fields the finance section may edit or comment on when rating.
RATE_LABELS = {
    "target_value": _("指标值"),
    "target_text": _("定性指标值"),
    "unit": _("计量单位"),
    "weight": _("权重"),
    "review_comment": _("审核意见"),
}


def number_text(value: Decimal | None) -> str:
    """A stored decimal as a person writes it: 12.5000 → "12.5", 40.00 → "40"."""
    if value is None:
        return ""
    return f"{value.normalize():f}"


def as_decimal(raw: Any) -> Decimal | None:
    """What a person typed, as a number; None when empty or not a number."""
    text = str(raw or "").strip().replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def weight_totals(rows: list[tuple[str, Any]]) -> dict[str, Any]:
    """The weights of (direction, weight) pairs as shown: quantitative, qualitative, all, and
    whether all differs from the total they must reach."""
    totals = {"quantitative": Decimal(0), "qualitative": Decimal(0)}
    for direction, weight in rows:
        value = as_decimal(weight)
        if value is None:
            continue
        totals["qualitative" if direction == Direction.QUALITATIVE else "quantitative"] += value
    total = totals["quantitative"] + totals["qualitative"]
    return {
        **{k: number_text(v) for k, v in totals.items()},
        "all": number_text(total),
        "off": total != targets_settings()["WEIGHT_TOTAL"],
    }


class TargetSetForm(ServiceErrorsMixin, forms.Form):
    """The version's own fields: overall goal, the change reason (a change only), and the
    revision the editor started from."""

    number = IdFormField(widget=forms.HiddenInput)
    revision = IdFormField(widget=forms.HiddenInput)
    overall_goal = forms.CharField(
        label=_("年度总体目标"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    change_reason = forms.CharField(
        label=_("变更理由"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, is_change: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not is_change:
            del self.fields["change_reason"]

    @classmethod
    def initial_from(cls, target_set: TargetSet) -> dict:
        return {
            "number": target_set.number,
            "revision": target_set.revision,
            "overall_goal": target_set.overall_goal,
            "change_reason": target_set.change_reason,
        }


class TargetRowForm(forms.Form):
    """One indicator row as typed. ``indicator_code`` picks a library indicator (the view
    looks it up among those the project may pick); its levels, name, direction and unit
    then come from the library."""

    indicator_code = forms.CharField(
        label=_("指标编码"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "indicator-code", "placeholder": _("可选")}),
    )
    level1 = forms.ChoiceField(label=_("一级指标"), required=False, choices=[*BLANK, *IndicatorLevel1.choices])
    level2 = forms.ChoiceField(label=_("二级指标"), required=False, choices=[*BLANK, *IndicatorLevel2.choices])
    name = forms.CharField(label=_("三级指标"), required=False, max_length=200)
    direction = forms.ChoiceField(label=_("指标性质"), required=False, choices=[*BLANK, *Direction.choices])
    target_value = forms.CharField(
        label=_("指标值"), required=False, max_length=40, widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    target_text = forms.CharField(label=_("定性指标值"), required=False, max_length=200)
    unit = forms.CharField(label=_("计量单位"), required=False, max_length=32)
    weight = forms.CharField(
        label=_("权重"), required=False, max_length=12, widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )

    #: the service's row field → this form's field
    service_fields = {"indicator": "indicator_code"}
    ROW_FIELDS = ("indicator_code", "level1", "level2", "name", "direction", "target_value", "target_text", "unit")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():  # the table's header names the columns
            field.widget.attrs.update({"aria-label": str(field.label), "data-field": name})

    def cells(self) -> list[forms.BoundField]:
        """The row's fields in the table's column order."""
        return [self[name] for name in (*self.ROW_FIELDS, "weight")]

    def is_blank(self) -> bool:
        """Nothing typed (a row added and left empty is not a row)."""
        data = getattr(self, "cleaned_data", {})
        return not any(str(data.get(f) or "").strip() for f in (*self.ROW_FIELDS, "weight"))

    def add_service_error(self, field: str, messages: list[str]) -> None:
        name = self.service_fields.get(field, field)
        self.add_error(name if name in self.fields else None, messages)

    @staticmethod
    def initial_from(row: TargetRow) -> dict:
        return {
            "indicator_code": row.indicator.code if row.indicator_id and row.indicator else "",
            "level1": row.level1,
            "level2": row.level2,
            "name": row.name,
            "direction": row.direction,
            "target_value": number_text(row.target_value),
            "target_text": row.target_text,
            "unit": row.unit,
            "weight": number_text(row.weight),
        }


class BaseTargetRowFormSet(forms.BaseFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = _("删除")
            form.fields["DELETE"].widget.attrs.update({"aria-label": str(_("删除")), "data-field": "DELETE"})

    def totals(self) -> dict[str, Any]:
        """The weights as they stand in the form (deleted rows left out), for the totals line."""
        pairs = []
        for form in self.forms:
            prefix = form.add_prefix
            if form.is_bound:
                if self.can_delete and form.data.get(prefix("DELETE")):
                    continue
                pairs.append((form.data.get(prefix("direction"), ""), form.data.get(prefix("weight"), "")))
            else:
                pairs.append((form.initial.get("direction", ""), form.initial.get("weight", "")))
        return weight_totals(pairs)


TargetRowFormSet = forms.formset_factory(
    TargetRowForm,
    formset=BaseTargetRowFormSet,
    extra=0,
    can_delete=True,
    max_num=targets_settings()["MAX_ROWS"],
    validate_max=True,
    absolute_max=targets_settings()["MAX_ROWS"] + 20,
)


class TargetReviewForm(ServiceErrorsMixin, forms.Form):
    """部门审核: pass the version to the finance section, or return it (reason required —
    the service's rule)."""

    number = IdFormField(widget=forms.HiddenInput)
    comment = forms.CharField(
        label=_("审核意见（退回时必填）"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class TargetChangeForm(ServiceErrorsMixin, forms.Form):
    """申请变更: the reason; the new version starts as a copy of the one in force."""

    reason = forms.CharField(
        label=_("变更理由"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    service_fields = {"change_reason": "reason"}


class TargetRateForm(ServiceErrorsMixin, forms.Form):
    """财政审核: the rating, an overall comment, a comment per row, and per-row edits (target
    value or text, unit, weight) that count only with 良. Each row's fields are named
    ``row_<position>_<field>`` and start from the row's values; an edit is a value that
    differs from the row's."""

    number = IdFormField(widget=forms.HiddenInput)
    rating = forms.ChoiceField(label=_("审核等次"), choices=TargetRating.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        label=_("审核意见"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("评为良、中、差时必填。"),
    )

    def __init__(self, *args, rows: list[TargetRow], **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        self.service_fields: dict[str, str] = {}
        for row in rows:
            for field in self.row_field_names(row):
                name = f"row_{row.position}_{field}"
                self.fields[name] = forms.CharField(
                    label=RATE_LABELS[field],
                    required=False,
                    max_length=2000 if field == "review_comment" else 200,
                    initial=self._current(row, field),
                    widget=forms.TextInput(attrs={"inputmode": "decimal"})
                    if field in ("target_value", "weight")
                    else forms.TextInput(),
                )
                # the table's header shows the column; the name says which row and column
                self.fields[name].widget.attrs["aria-label"] = _("第%(n)s行 %(name)s：%(label)s") % {
                    "n": row.position,
                    "name": row.name,
                    "label": RATE_LABELS[field],
                }
                self.service_fields[f"rows.{row.position - 1}.{field}"] = name

    @staticmethod
    def row_field_names(row: TargetRow) -> tuple[str, ...]:
        """A quantitative row may change its value and unit; a qualitative one its text."""
        values = ("target_value", "unit") if row.direction in QUANTITATIVE else ("target_text",)
        return (*values, "weight", "review_comment")

    @staticmethod
    def _current(row: TargetRow, field: str) -> str:
        value = getattr(row, field)
        return number_text(value) if isinstance(value, Decimal) else (value or "")

    def row_fields(self) -> list[dict]:
        """Per row: the row and its bound fields by name, for the template."""
        return [
            {
                "row": row,
                "fields": {f: self[f"row_{row.position}_{f}"] for f in self.row_field_names(row)},
            }
            for row in self.rows
        ]

    def rating_choices(self) -> list[dict]:
        return [
            {"widget": choice, "help": RATING_HELP[TargetRating(choice.data["value"])]} for choice in self["rating"]
        ]

    def _edit(self, row: TargetRow, field: str, typed: str) -> Any:
        """``typed`` if it changes ``field`` of ``row``, else None (no edit)."""
        typed = typed.strip()
        if field in ("target_value", "weight"):
            value = as_decimal(typed)
            if value is None and typed:  # not a number: the service says so on the field
                return typed
            return typed if value != getattr(row, field) else None
        return typed if typed != (getattr(row, field) or "") else None

    def service_kwargs(self) -> dict:
        """targets_rate's keyword arguments. Edits are sent only with 良."""
        data = self.cleaned_data
        rating = data["rating"]
        edits: dict[int, dict[str, Any]] = {}
        comments: dict[int, str] = {}
        for row in self.rows:
            comments[row.position] = data.get(f"row_{row.position}_review_comment", "")
            if rating != TargetRating.GOOD:
                continue
            change = {}
            for field in self.row_field_names(row):
                if field not in EDITABLE_ON_RATING:
                    continue
                edit = self._edit(row, field, data.get(f"row_{row.position}_{field}", ""))
                if edit is not None:
                    change[field] = edit
            if change:
                edits[row.position] = change
        return {"rating": rating, "comment": data["comment"], "row_comments": comments, "edits": edits}
