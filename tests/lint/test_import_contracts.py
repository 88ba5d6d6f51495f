"""The import direction (issue 17, item 7): the contracts of pyproject.toml
[tool.importlinter], run as `make lint` runs them, hold on the code, and break on a planted
violation of each rule (so a contract that checks nothing would fail here)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
APPS = ("accounts", "notifications", "processes", "reports", "workflows", "config")


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd)},
    )


def _contracts_in(tmp_path: Path, modules: dict[str, str]) -> Path:
    """A miniature project with our packages and the repository's own contracts."""
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text(encoding="utf-8"), encoding="utf-8")
    for app in APPS:
        (tmp_path / app).mkdir()
        (tmp_path / app / "__init__.py").write_text("")
    for name, source in modules.items():
        (tmp_path / f"{name.replace('.', '/')}.py").write_text(source)
    return tmp_path


def test_import_contracts_hold_when_run_on_the_repository():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_contracts_name_every_app_in_its_layer_when_read_from_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["type"] == "layers")
    assert layers["layers"] == ["workflows", "reports", "processes", "notifications", "accounts"]
    assert set(config["root_packages"]) == set(APPS)


@pytest.mark.parametrize(
    ("importer", "imported", "broken"),
    [
        ("accounts.services", "processes.services", "accounts imports nothing of ours"),
        ("accounts.admin", "notifications.services", "accounts imports nothing of ours"),
        ("processes.views", "workflows.views", "processes never imports workflows or reports"),
        ("processes.audit_views", "reports.exports", "processes never imports workflows or reports"),
        ("reports.views", "workflows.selectors", "reports may import processes, never workflows"),
        ("notifications.services", "processes.models", "workflows > reports > processes > notifications"),
    ],
)
def test_contract_breaks_when_a_lower_layer_imports_a_higher_one(tmp_path, importer, imported, broken):
    project = _contracts_in(tmp_path, {importer: f"import {imported}\n", imported: "VALUE = 1\n"})
    result = _lint(project)
    assert result.returncode != 0, result.stdout
    assert f"{broken}" in result.stdout
    assert "BROKEN" in result.stdout


def test_contracts_hold_when_a_higher_layer_imports_a_lower_one(tmp_path):
    project = _contracts_in(
        tmp_path,
        {
            "workflows.views": "import reports.figures\nimport processes.models\nimport accounts.roles\n",
            "reports.figures": "import processes.models\n",
            "processes.models": "import notifications.services\nimport accounts.roles\n",
            "notifications.services": "import accounts.roles\n",
            "accounts.roles": "VALUE = 1\n",
        },
    )
    result = _lint(project)
    assert result.returncode == 0, result.stdout + result.stderr


def test_make_lint_runs_the_contracts_when_invoked():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "lint-imports" in recipe
    requirements = (ROOT / "requirements-dev.txt").read_text(encoding="utf-8").splitlines()
    assert any(line.startswith("import-linter==") for line in requirements)
