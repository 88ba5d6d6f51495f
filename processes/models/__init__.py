"""The domain's models, one module per area; imported from here (``processes.models``)."""

from .audit import AuditChainHead, AuditEvent, AuditEventQuerySet
from .indicators import Indicator
from .jobs import Job
from .monitoring import IndicatorProgress, MonitoringReport, MonitoringRound
from .pre_assessment import Opinion, PanelMember, PreAssessment, ReductionItem
from .project import MONEY, SYSTEM, BudgetProject, ProjectCategory, Recurrence, action, fsm_permission
from .targets import TargetRow, TargetSet

__all__ = [
    "MONEY",
    "SYSTEM",
    "AuditChainHead",
    "AuditEvent",
    "AuditEventQuerySet",
    "BudgetProject",
    "Indicator",
    "IndicatorProgress",
    "Job",
    "MonitoringReport",
    "MonitoringRound",
    "Opinion",
    "PanelMember",
    "PreAssessment",
    "ProjectCategory",
    "Recurrence",
    "ReductionItem",
    "TargetRow",
    "TargetSet",
    "action",
    "fsm_permission",
]
