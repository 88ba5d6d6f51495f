"""The auditor's screen over the audit trail (issue 21): filters, labels, verification, export.

Everything shown is a label: roles from ``Role``, actions from the FSM declarations and
``OTHER_ACTION_LABELS``, states from ``STATE_CHOICES``, object types from the models'
verbose names. Times are Asia/Shanghai, and the filters' dates are Shanghai dates.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from io import BytesIO

from django import forms
from django.apps import apps
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from accounts.models import Department
from accounts.roles import Role

from .models import AuditEvent, AuditVerification, BudgetProject
from .services.audit import audit_verify
from .states import state_label
from .templatetags.jixiao import OTHER_ACTION_LABELS, SHANGHAI, _transition_labels, action_label, cst

#: Apps whose models may be the object of an audit event.
AUDITED_APPS = ("processes", "accounts", "reports")
PAGE_SIZES = (20, 50, 100)
DEFAULT_PAGE_SIZE = 50
#: Rows an export holds at most: a filter narrows a larger trail first.
EXPORT_LIMIT = 100_000


def object_type_label(value: str) -> str:
    try:
        return str(apps.get_model(value)._meta.verbose_name)
    except (LookupError, ValueError):
        return value


def object_type_choices() -> list[tuple[str, str]]:
    out = []
    for app in AUDITED_APPS:
        for model in apps.get_app_config(app).get_models():
            if model in (AuditEvent, AuditVerification) or model._meta.auto_created:
                continue
            out.append((model._meta.label_lower, str(model._meta.verbose_name)))
    return sorted(out, key=lambda c: c[1])


def action_choices() -> list[tuple[str, str]]:
    names = set(_transition_labels()) | set(OTHER_ACTION_LABELS)
    return sorted(((n, action_label(n)) for n in names), key=lambda c: c[1])


def problem_label(reason: str) -> str:
    """The verification's finding in words (audit_verify's reasons are English, for logs)."""
    if reason.startswith("sequence gap"):
        return _("序号不连续：此行之前的记录被删除")
    if reason.startswith("prev_hash"):
        return _("前一行哈希不符：上一行被修改或删除")
    if reason.startswith("content"):
        return _("内容与哈希不符：此行被修改")
    if reason.startswith("chain head"):
        return _("链头记录的末行不存在：末尾的记录被删除")
    return reason


class AuditFilterForm(forms.Form):
    """The screen's filters (GET); an empty field does not filter."""

    start = forms.DateField(
        label=gettext_lazy("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    actor = forms.CharField(label=gettext_lazy("操作人"), required=False, max_length=150)
    role = forms.ChoiceField(label=gettext_lazy("角色"), required=False)
    object_type = forms.ChoiceField(label=gettext_lazy("对象类型"), required=False)
    action = forms.ChoiceField(label=gettext_lazy("操作"), required=False)
    department = forms.ModelChoiceField(
        label=gettext_lazy("部门"),
        required=False,
        queryset=Department.objects.order_by("code"),
        empty_label=gettext_lazy("全部"),
    )
    page_size = forms.TypedChoiceField(
        label=gettext_lazy("每页行数"),
        required=False,
        coerce=int,
        choices=[(n, n) for n in PAGE_SIZES],
        empty_value=None,  # the view's default, DEFAULT_PAGE_SIZE
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        everyone = [("", _("全部"))]
        choices = {
            "role": everyone + [(r.value, str(r.label)) for r in Role],
            "object_type": everyone + object_type_choices(),
            "action": everyone + action_choices(),
        }
        for name, options in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = options

    def clean(self):
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("截止日期不能早于起始日期。"))
        return data


def _shanghai_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


def filter_events(data: dict) -> QuerySet[AuditEvent]:
    """The trail narrowed by a valid AuditFilterForm's cleaned data, newest first.

    The department filter keeps events by the department's people and events on the
    department's projects.
    """
    qs = AuditEvent.objects.all()
    if data.get("start"):
        qs = qs.filter(occurred_at__gte=_shanghai_midnight(data["start"]))
    if data.get("end"):
        qs = qs.filter(occurred_at__lt=_shanghai_midnight(data["end"] + timedelta(days=1)))
    if data.get("actor"):
        word = data["actor"].strip()
        qs = qs.filter(Q(actor_username__icontains=word) | Q(actor__full_name__icontains=word))
    if data.get("role"):
        qs = qs.filter(actor_role=data["role"])
    if data.get("object_type"):
        qs = qs.filter(object_type=data["object_type"])
    if data.get("action"):
        qs = qs.filter(action=data["action"])
    if data.get("department"):
        projects = (
            BudgetProject.objects.filter(department=data["department"])
            .annotate(pk_text=Cast("pk", CharField()))
            .values("pk_text")
        )
        qs = qs.filter(
            Q(actor__department=data["department"])
            | Q(object_type=BudgetProject._meta.label_lower, object_id__in=projects)
        )
    return qs.select_related("actor").order_by("-sequence")


def last_verification() -> AuditVerification | None:
    return AuditVerification.objects.select_related("verified_by").first()


def record_verification(actor=None) -> AuditVerification:
    """Walk the chain now (``audit_verify``) and store what it found."""
    last = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0
    problem = audit_verify()
    return AuditVerification.objects.create(
        verified_at=timezone.now(),
        verified_by=actor,
        intact=problem is None,
        last_sequence=last,
        bad_sequence=problem.sequence if problem else None,
        reason=problem.reason if problem else "",
    )


def export_headers() -> list[str]:
    return [
        _("序号"),
        _("时间（北京时间）"),
        _("操作人"),
        _("角色"),
        _("对象类型"),
        _("对象"),
        _("操作"),
        _("原状态"),
        _("新状态"),
        _("意见"),
        _("IP"),
    ]


def event_row(e: AuditEvent) -> list:
    actor = str(e.actor) if e.actor else e.actor_username
    return [
        e.sequence,
        cst(e.occurred_at, "Y-m-d H:i:s"),
        actor,
        _role_label(e.actor_role),
        object_type_label(e.object_type),
        e.object_repr or e.object_id,
        action_label(e.action),
        state_label(e.object_type, e.from_state) if e.from_state else "",
        state_label(e.object_type, e.to_state) if e.to_state else "",
        e.comment,
        e.ip or "",
    ]


def _role_label(value: str) -> str:
    try:
        return str(Role(value).label)
    except ValueError:
        return value


def export_xlsx(qs: QuerySet[AuditEvent]) -> bytes:
    """The filtered trail as a workbook with Chinese headers (write-only: rows stream)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("审计日志"))
    sheet.append(export_headers())
    for event in qs[:EXPORT_LIMIT].iterator(chunk_size=2000):
        sheet.append(event_row(event))
    out = BytesIO()
    book.save(out)
    return out.getvalue()
