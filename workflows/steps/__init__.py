"""The flow steps ``workflows`` registers on domain transitions (processes.transitions.
register_flow_step): one module per lifecycle that has a viewflow flow, each with a
``register()`` that ``WorkflowsConfig.ready`` calls. A step completes (or starts, or
cancels) the transition's flow task inside the transition, under the flow lock, and
returns what the next actors are told — so no caller can move a state and leave its task
open, and ``processes`` never imports ``workflows``.
"""

from __future__ import annotations

from importlib import import_module

LIFECYCLES = ("project", "pre_assessment", "targets", "monitoring", "evaluation")


def register_all() -> None:
    for name in LIFECYCLES:
        import_module(f"{__name__}.{name}").register()
