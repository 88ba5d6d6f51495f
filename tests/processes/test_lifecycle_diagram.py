"""`manage.py lifecycle_diagram`: the lifecycle diagram and table are generated from the FSM,
and `--check` fails when the committed files no longer match the code."""

import re
import shutil
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from processes.management.commands import lifecycle_diagram as cmd
from processes.models import BudgetProject


def run(*args) -> str:
    out = StringIO()
    call_command("lifecycle_diagram", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def copies(tmp_path):
    """Copies of the committed .dot, .svg and .md in a temporary folder."""
    for suffix in (".dot", ".svg", ".md"):
        shutil.copy(cmd.DOCS / f"project-lifecycle{suffix}", tmp_path / f"project-lifecycle{suffix}")
    return tmp_path / "project-lifecycle.dot", tmp_path / "project-lifecycle.md"


def test_check_passes_when_the_committed_files_match_the_declaration():
    assert "match" in run("--check")


def test_check_fails_when_the_dot_differs_from_the_declaration(copies):
    dot, doc = copies
    run("--check", "--dot", str(dot), "--doc", str(doc))  # the copies pass as they are
    dot.write_text(dot.read_text(encoding="utf-8").replace("send_back", "send_home"), encoding="utf-8")

    with pytest.raises(CommandError, match=r"project-lifecycle\.dot differs"):
        run("--check", "--dot", str(dot), "--doc", str(doc))


def test_check_fails_when_the_dot_is_missing(copies):
    dot, doc = copies
    dot.unlink()

    with pytest.raises(CommandError, match="missing"):
        run("--check", "--dot", str(dot), "--doc", str(doc))


def test_check_fails_when_the_svg_was_rendered_from_another_dot(copies):
    dot, doc = copies
    svg = dot.with_suffix(".svg")
    svg.write_text(
        re.sub(r"sha256 [0-9a-f]{64}", "sha256 " + "0" * 64, svg.read_text(encoding="utf-8")), encoding="utf-8"
    )

    with pytest.raises(CommandError, match="not rendered from the current"):
        run("--check", "--dot", str(dot), "--doc", str(doc))
    run("--check", "--no-svg", "--dot", str(dot), "--doc", str(doc))


def test_check_fails_when_the_table_in_the_doc_was_edited_by_hand(copies):
    dot, doc = copies
    doc.write_text(
        doc.read_text(encoding="utf-8").replace("| `submit` 提交 |", "| `submit` 提交申报 |"), encoding="utf-8"
    )

    with pytest.raises(CommandError, match="transition table"):
        run("--check", "--dot", str(dot), "--doc", str(doc))


def test_generating_writes_files_that_the_check_accepts(tmp_path):
    dot, doc = tmp_path / "lifecycle.dot", tmp_path / "lifecycle.md"
    doc.write_text(f"# Lifecycle\n\n{cmd.TABLE_START}\nstale\n{cmd.TABLE_END}\n\nafter\n", encoding="utf-8")
    assert shutil.which("dot"), "Graphviz `dot` is needed to render the .svg (apt-get install graphviz)"

    run("--dot", str(dot), "--doc", str(doc))

    assert dot.read_text(encoding="utf-8") == (cmd.DOCS / "project-lifecycle.dot").read_text(encoding="utf-8")
    assert dot.with_suffix(".svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert "stale" not in doc.read_text(encoding="utf-8") and doc.read_text(encoding="utf-8").endswith("after\n")
    run("--check", "--dot", str(dot), "--doc", str(doc))


def test_every_declared_transition_is_an_edge_labelled_with_its_role_and_system_ones_are_dashed():
    dot = cmd.render_dot(cmd.declared_edges())
    declared = list(BudgetProject._meta.get_field("stage").get_all_transitions(BudgetProject))
    assert declared
    for t in declared:
        line = next(
            (ln for ln in dot.splitlines() if ln.strip().startswith(f'{t.source} -> {t.target} [label="{t.name}\\n')),
            None,
        )
        assert line is not None, f"{t.name}: {t.source} -> {t.target} not drawn"
        if t.custom.get("action"):
            assert f"\\n{t.custom['role']}" in line and "style=dashed" not in line
        else:
            assert "\\nsystem" in line and "style=dashed" in line


def test_table_has_a_row_per_transition_with_who_may_take_it():
    table = run("--table")

    rows = [ln for ln in table.splitlines() if ln.startswith("| `")]
    names = {t.name for t in BudgetProject._meta.get_field("stage").get_all_transitions(BudgetProject)}
    assert len(rows) == len(names)
    submit = next(r for r in rows if "| `submit` " in r)
    assert "`dept_staff`" in submit and "部门审核" in submit
    route = next(r for r in rows if "`route_to_target_review`" in r)
    assert "`below_threshold`" in route


def test_a_person_transition_without_a_notified_entry_stops_the_command(monkeypatch):
    monkeypatch.delitem(cmd.NOTIFIED, "approve")

    with pytest.raises(CommandError, match="approve"):
        run("--table")
