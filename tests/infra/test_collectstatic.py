"""`manage.py collectstatic` with production settings (whitenoise's compressed manifest),
as the release steps of docs/deployment.md run it, and the strictness it keeps."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.test import override_settings

from .test_deploy_check import manage, sample_environment

PROD_STORAGE = "config.storage.LenientThirdPartyManifestStorage"


def test_collectstatic_passes_with_prod_settings_when_env_is_the_example(tmp_path):
    env = sample_environment(tmp_path)

    result = manage(env, "collectstatic", "--noinput")

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text(encoding="utf-8"))["paths"]
    for ours in ("css/jixiao.css", "css/reports.css", "js/live.js", "js/board.js"):
        assert ours in manifest, ours
        assert manifest[ours] != ours  # hashed
        assert (tmp_path / "static" / manifest[ours]).exists()
        assert (tmp_path / "static" / (manifest[ours] + ".gz")).exists()  # compressed too
    for theirs in ("viewflow/css/viewflow.min.css", "viewflow/fonts/roboto/roboto-fontface.css"):
        assert theirs in manifest, theirs
    # the unused viewflow stylesheet naming fonts that are not shipped: collected, its
    # dangling references left as written, and said so
    dangling = "viewflow/fonts/roboto/node_modules/roboto-fontface/css/roboto/roboto-fontface.css"
    assert "url('./Roboto-Thin.woff2')" in (tmp_path / "static" / manifest[dangling]).read_text(encoding="utf-8")
    assert f"{dangling} references files that do not exist" in output


def collect(source, target, storage=PROD_STORAGE):
    with override_settings(
        STATICFILES_DIRS=[str(source)],
        STATICFILES_FINDERS=["django.contrib.staticfiles.finders.FileSystemFinder"],
        STATIC_ROOT=str(target),
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": storage},
        },
    ):
        call_command("collectstatic", "--noinput", verbosity=0)
    return json.loads((target / "staticfiles.json").read_text(encoding="utf-8"))["paths"]


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_collectstatic_fails_when_our_css_names_a_missing_file(tmp_path):
    write(tmp_path / "src" / "css" / "site.css", "body { background: url('../img/missing.png'); }")

    with pytest.raises(ValueError, match="missing.png"):
        collect(tmp_path / "src", tmp_path / "out")


def test_lenient_prefix_keeps_missing_reference_and_hashes_present_one_when_collected(tmp_path):
    base = tmp_path / "src" / "viewflow" / "fonts" / "roboto" / "node_modules" / "x"
    write(base / "font.woff", "font")
    write(base / "fonts.css", "@font-face { src: url('./gone.woff2'), url('./font.woff'); }")

    manifest = collect(tmp_path / "src", tmp_path / "out")

    css = (tmp_path / "out" / manifest["viewflow/fonts/roboto/node_modules/x/fonts.css"]).read_text(encoding="utf-8")
    hashed_font = manifest["viewflow/fonts/roboto/node_modules/x/font.woff"].rsplit("/", 1)[-1]
    assert "url('./gone.woff2')" in css
    assert f'url("./{hashed_font}")' in css
