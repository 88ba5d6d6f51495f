"""Third-party agencies managed (issue 19 §4): the one writer of FrameworkCommission (the
year's 整体委托). Set or changed by the finance section, audited each time, the agency's
staff told; read by the commission and re-check sample screens to pre-fill the agency."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import Agency, User
from accounts.roles import Role

from .. import messages, transitions
from ..fiscal_years import check_fiscal_year
from ..models import FrameworkCommission
from ..notices import agency_staff, everyone
from ..permissions import commissioned as perms
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
