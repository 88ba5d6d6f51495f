"""The flow diagrams in docs/processes are generated from the flows, not drawn by hand."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def test_committed_diagrams_match_the_flows_when_checked():
    call_command("flow_diagrams", "--check")


def test_check_fails_when_a_diagram_is_stale(tmp_path):
    call_command("flow_diagrams", "--dir", str(tmp_path))
    call_command("flow_diagrams", "--check", "--dir", str(tmp_path))
    (tmp_path / "pre-assessment-flow.svg").write_text("<svg/>", encoding="utf-8")
    with pytest.raises(CommandError, match="pre-assessment-flow.svg"):
        call_command("flow_diagrams", "--check", "--dir", str(tmp_path))
