"""Flow steps of the monitoring lifecycle (see workflows/steps/__init__.py): each
transition of a MonitoringReport completes its MonitoringFlow task (the one process of
that report), whoever calls the processes service."""

from __future__ import annotations

from processes.models import MonitoringReport
from processes.transitions import register_bulk_flow_step, register_flow_step

from .targets import finishing


def register() -> None:
    """Register this lifecycle's flow steps with processes.transitions."""
    from workflows.flows import MonitoringFlow

    def report(node, *, outcome_wins: bool = False):
        return finishing(node, by_record="report", outcome_wins=outcome_wins)

    register_flow_step(MonitoringReport, "submit", report(MonitoringFlow.fill))
    register_flow_step(MonitoringReport, "dept_approve", report(MonitoringFlow.leader_review))
    from ..bulk import bulk_step

    flow = MonitoringFlow
    register_bulk_flow_step(
        MonitoringReport,
        "dept_approve",
        bulk_step(flow.leader_review, data_key="report", then=[flow.leader_decided, flow.finance_review]),
    )
    register_flow_step(MonitoringReport, "dept_return", report(MonitoringFlow.leader_review, outcome_wins=True))
    for name in ("clear", "warn", "send_back"):
        register_flow_step(MonitoringReport, name, report(MonitoringFlow.finance_review, outcome_wins=True))
    register_flow_step(MonitoringReport, "dispose", report(MonitoringFlow.dispose, outcome_wins=True))
    # 批量审核通过 (processes.services.monitoring.reports_clear): a cleared report's process
    # passes its two gateways and ends, as a single clearance leaves it
    register_bulk_flow_step(
        MonitoringReport,
        "clear",
        bulk_step(flow.finance_review, data_key="report", then=[flow.reviewed, flow.cleared_or_returned, flow.end]),
    )
