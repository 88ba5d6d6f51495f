"""The domain's models, one module per area; imported from here (``processes.models``)."""

from .agencies import Deliverable, DeliverableScore, FrameworkCommission
from .audit import AuditChainHead, AuditEvent, AuditEventQuerySet, AuditVerification
from .committee import CommitteeEvidence, CommitteeOpinion, CommitteeOpinionItem
from .evaluation import (
    CommissionedEvaluation,
    EvaluationCampaign,
    EvaluationPanelMember,
    ExpertSuggestion,
    Finding,
    Recheck,
    RecheckSample,
    ScoreLine,
    ScoreSheet,
    SelfEvaluation,
    completion_rate,
    finding_categories,
    finding_category_label,
)
from .execution import Payment, PaymentPlan
from .history import HistoryImport, imported_years
from .indicators import Indicator
from .jobs import Job
from .monitoring import IndicatorProgress, MonitoringReport, MonitoringRound
from .policy import Policy
from .pre_assessment import Opinion, PanelMember, PreAssessment, ReductionItem
from .project import MONEY, BudgetProject, ProjectCategory, Recurrence, action, cascade, fsm_permission
from .rectification import DeadlineExtension, Evidence, Rectification, RectificationItem
from .reminders import ReminderSent
from .results import DecisionStatus, ResultsDecision
from .targets import TargetRow, TargetSet

__all__ = [
    "finding_categories",
    "finding_category_label",
    "MONEY",
    "cascade",
    "AuditChainHead",
    "AuditEvent",
    "AuditEventQuerySet",
    "AuditVerification",
    "BudgetProject",
    "Policy",
    "CommissionedEvaluation",
    "CommitteeEvidence",
    "CommitteeOpinion",
    "CommitteeOpinionItem",
    "DeadlineExtension",
    "Deliverable",
    "DeliverableScore",
    "Evidence",
    "EvaluationCampaign",
    "EvaluationPanelMember",
    "ExpertSuggestion",
    "Finding",
    "FrameworkCommission",
    "HistoryImport",
    "Indicator",
    "IndicatorProgress",
    "Job",
    "MonitoringReport",
    "MonitoringRound",
    "Opinion",
    "Payment",
    "PaymentPlan",
    "PanelMember",
    "PreAssessment",
    "ProjectCategory",
    "Recheck",
    "RecheckSample",
    "Rectification",
    "RectificationItem",
    "Recurrence",
    "ReductionItem",
    "ReminderSent",
    "DecisionStatus",
    "ResultsDecision",
    "ScoreLine",
    "ScoreSheet",
    "SelfEvaluation",
    "TargetRow",
    "TargetSet",
    "action",
    "completion_rate",
    "fsm_permission",
    "imported_years",
]
