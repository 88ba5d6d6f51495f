"""Who may act in performance monitoring (绩效运行监控): the ``permission=`` of
MonitoringReport's transitions, and the checks the screens and API share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import holds, in_department
from .targets import fsm

__all__ = ["can_dept_review", "can_fill", "can_open", "can_review", "fsm", "may_review", "system_only"]

if TYPE_CHECKING:
    from accounts.models import User

    from ..models import MonitoringReport


def can_open(user: User) -> bool:
    """财政绩效科 opens (or extends) a round."""
    return holds(user, "processes.open_monitoring")


def can_fill(report: MonitoringReport, user: User) -> bool:
    """本部门经办人 fill and submit their department's reports."""
    return holds(user, "processes.fill_monitoring") and in_department(user, report.project)


def can_dept_review(report: MonitoringReport, user: User) -> bool:
    """本部门负责人 pass their department's reports to the finance section, or return them."""
    return holds(user, "processes.review_monitoring_dept") and in_department(user, report.project)


def can_review(user: User) -> bool:
    """财政绩效科 clears, warns, returns and disposes of every department's reports."""
    return holds(user, "processes.review_monitoring")


# -- the transitions' permission= (instance, user) ------------------------------------------


def may_review(report: MonitoringReport, user: User) -> bool:
    return can_review(user)


def system_only(report: MonitoringReport, user: User) -> bool:
    """Cascades (the project ended): never a person's button."""
    return False
