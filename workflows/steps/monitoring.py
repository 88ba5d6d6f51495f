"""Flow steps of the monitoring lifecycle (see workflows/steps/__init__.py)."""

from __future__ import annotations


def register() -> None:
    """Register this lifecycle's flow steps with processes.transitions."""
