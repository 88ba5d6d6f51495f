"""Moved to ``config.prepared`` (issue 20), below every app, so that ``notifications`` may
compile its hot queries once too. Re-exported here for code that still imports it."""

from config.prepared import Prepared, PreparedModels

__all__ = ["Prepared", "PreparedModels"]
