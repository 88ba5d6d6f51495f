"""`manage.py transition_docs`: every lifecycle page's transition table and state diagram
are generated from the declarations, and `--check` fails when the committed docs differ."""

import shutil
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from processes import transitions as engine
from processes.management.commands import transition_docs as cmd


def run(*args) -> str:
    out = StringIO()
    call_command("transition_docs", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def docs(tmp_path):
    """A copy of docs/processes in a temporary folder."""
    target = tmp_path / "processes"
    shutil.copytree(cmd.DOCS, target)
    return target


def test_check_passes_when_the_committed_docs_match_the_declarations():
    assert "match" in run("--check")


def test_every_model_with_a_state_machine_has_a_page_with_its_section():
    for model in cmd.lifecycle_models():
        page = cmd.PAGES[model._meta.label_lower]
        doc = (cmd.DOCS / page.doc).read_text(encoding="utf-8")
        assert cmd.start_marker(model._meta.label_lower) in doc


def test_check_fails_when_a_table_was_edited_by_hand(docs):
    page = docs / "rectification.md"
    text = page.read_text(encoding="utf-8")
    assert "| `verify`" in text
    page.write_text(text.replace("| `verify`", "| `verify_by_hand`"), encoding="utf-8")

    with pytest.raises(CommandError, match=r"transition table of processes\.rectification .* differs"):
        run("--check", "--docs", str(docs))


def test_check_fails_when_a_dot_differs_from_the_declaration(docs):
    dot = docs / "targets-states.dot"
    dot.write_text(dot.read_text(encoding="utf-8").replace("dept_approve", "dept_ok"), encoding="utf-8")

    with pytest.raises(CommandError, match=r"targets-states\.dot differs"):
        run("--check", "--docs", str(docs))


def test_check_fails_when_an_svg_was_rendered_from_another_dot(docs):
    svg = docs / "monitoring-states.svg"
    svg.write_text(svg.read_text(encoding="utf-8").replace(cmd.SVG_HASH_MARK, "stale "), encoding="utf-8")

    with pytest.raises(CommandError, match="not rendered from the current"):
        run("--check", "--docs", str(docs))
    run("--check", "--no-svg", "--docs", str(docs))


def test_check_fails_when_a_page_lost_its_markers(docs):
    page = docs / "recheck.md"
    page.write_text(page.read_text(encoding="utf-8").replace(cmd.end_marker("processes.recheck"), ""), encoding="utf-8")

    with pytest.raises(CommandError, match="markers are missing"):
        run("--check", "--docs", str(docs))


def test_check_fails_when_a_model_with_a_state_machine_has_no_page(monkeypatch):
    monkeypatch.delitem(cmd.PAGES, "processes.recheck")

    with pytest.raises(CommandError, match=r"processes\.recheck has a state machine but no lifecycle page"):
        run("--check")


def test_generating_writes_docs_that_the_check_accepts(docs):
    for path in docs.glob("*-states.*"):
        path.unlink()
    page = docs / "rectification.md"
    start, end = cmd.start_marker("processes.rectification"), cmd.end_marker("processes.rectification")
    text = page.read_text(encoding="utf-8")
    head, rest = text.split(start, 1)
    page.write_text(f"{head}{start}\nstale\n{end}{rest.split(end, 1)[1]}", encoding="utf-8")
    assert shutil.which("dot"), "Graphviz `dot` is needed to render the .svg (apt-get install graphviz)"

    run("--docs", str(docs))

    assert "stale" not in page.read_text(encoding="utf-8")
    assert (docs / "rectification-states.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    run("--check", "--docs", str(docs))


def test_table_has_a_row_per_transition_with_its_states_roles_and_who_is_told():
    for model in cmd.lifecycle_models():
        table = cmd.render_table(model)
        rows = [ln for ln in table.splitlines() if ln.startswith("| `")]
        declared = cmd.ordered(model)
        assert {d.name for d in declared} == {d.name for d in engine.transitions_of(model)}
        assert len(rows) == len(declared)
        for d, row in zip(declared, rows, strict=True):
            assert row.startswith(f"| `{d.name}`")
            assert f"→ `{d.transition.target}`" in row
            if d.declared and d.is_action:
                assert all(f"`{r}`" in row for r in d.roles)
            if d.declared and d.custom["silent"] is not None:
                assert "silent: " in row


def test_diagram_draws_every_transition_from_each_source_and_dashes_system_ones():
    for model in cmd.lifecycle_models():
        page = cmd.PAGES[model._meta.label_lower]
        if not page.slug:
            continue
        dot = cmd.render_dot(model, page)
        for d in engine.transitions_of(model):
            for source in cmd.sources(d):
                edge = f'"{source}" -> "{d.transition.target}" [label="{d.name}\\n'
                line = next((ln for ln in dot.splitlines() if ln.strip().startswith(edge)), None)
                assert line is not None, f"{model.__name__}.{d.name}: {source} → {d.transition.target} not drawn"
                assert ("style=dashed" in line) == (d.declared and not d.is_action)


def test_silent_lists_every_transition_declared_silent_with_its_reason():
    out = run("--silent")

    silent = [d for d in engine.declared_transitions() if d.declared and d.custom["silent"] is not None]
    assert silent, "some transition is declared silent (e.g. the pre-assessment's open_review)"
    lines = out.splitlines()
    assert len(lines) == len(silent)
    for d in silent:
        line = next(ln for ln in lines if ln.startswith(f"- `{d.model.__name__}.{d.name}` "))
        assert line.split(": ", 1)[1].strip()
