"""The titles a year's report carries, as the reference report words them: the report's own
("2020年度财政支出绩效管理情况") and its three attachments ("2020 年度荔湾区财政支出项目绩效自评
复核汇总表"). The district is ``settings.JIXIAO["DISTRICT_NAME"]``, shown through gettext."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _


def district_name() -> str:
    return _(settings.JIXIAO["DISTRICT_NAME"])


def report_title(year: int) -> str:
    """The print page's title: 荔湾区2020年度财政支出绩效管理情况."""
    return _("%(district)s%(year)s年度财政支出绩效管理情况") % {"district": district_name(), "year": year}


def recheck_title(year: int) -> str:
    """附件1."""
    return _("%(year)s 年度%(district)s财政支出项目绩效自评复核汇总表") % {"year": year, "district": district_name()}


def key_evaluation_title(year: int) -> str:
    """附件2."""
    return _("%(year)s 年度%(district)s财政支出项目绩效重点评价汇总表") % {"year": year, "district": district_name()}


def department_title(year: int) -> str:
    """附件3."""
    return _("%(year)s 年度%(district)s部门整体支出绩效评价汇总表") % {"year": year, "district": district_name()}
