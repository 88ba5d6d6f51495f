"""Backup and restore (scripts/backup, scripts/restore): the database and both media roots,
restored into a new database and new folders; the audit chain verifies and every file a
FileField names is present."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from config.env import BASE_DIR

from .topology import record

pytestmark = pytest.mark.production

#: Files referenced by rows, as uploads leave them, written through the models' own
#: storages: a job's input and a commissioned evaluation's report, both in
#: PRIVATE_MEDIA_ROOT (every upload is private: decision 0015). MEDIA_ROOT is still backed
#: up and restored, for files a release before that one left there (one is put there below).
MAKE_FILES = """
from django.core.files.base import ContentFile
from accounts.models import User
from processes.models import Job
from processes.models.evaluation import CommissionedEvaluation
user = User.objects.get(username="finance1")
job = Job(kind="backup-test", status="succeeded", created_by=user)
job.file.save("backup-test.xlsx", ContentFile(b"PK\\x03\\x04 backup test"), save=True)
ev = CommissionedEvaluation.objects.order_by("pk").first()
if ev is not None and not ev.report:
    ev.report.save("backup-test.pdf", ContentFile(b"%PDF-1.4 backup test"), save=False)
    CommissionedEvaluation.objects.filter(pk=ev.pk).update(report=ev.report.name)
print(job.file.path)
"""


def test_restore_verifies_and_has_every_file_when_backup_taken_live(healthy, pgconn):
    topo = healthy
    made = topo.manage("shell", "-c", MAKE_FILES)
    assert made.returncode == 0, made.stdout + made.stderr
    media, private = Path(topo.env["MEDIA_ROOT"]), Path(topo.env["PRIVATE_MEDIA_ROOT"])
    job_file = Path(made.stdout.strip().splitlines()[-1])
    assert job_file.is_relative_to(private), f"a job's input left the private root: {job_file}"
    assert any(private.rglob("*.xlsx")), "no job input in PRIVATE_MEDIA_ROOT to back up"
    legacy = media / "legacy" / "before-private-uploads.txt"
    legacy.parent.mkdir(parents=True, exist_ok=True)
    legacy.write_text("a file an earlier release left in MEDIA_ROOT", encoding="utf-8")

    backup = topo.tmp / "backup"
    start = time.monotonic()
    done = subprocess.run(
        ["bash", "scripts/backup", str(backup)], cwd=BASE_DIR, env=topo.env, capture_output=True, text=True, timeout=600
    )
    backup_seconds = time.monotonic() - start
    assert done.returncode == 0, done.stdout + done.stderr
    assert {p.name for p in backup.iterdir()} == {"database.dump", "media.tar.gz", "private.tar.gz", "SHA256SUMS"}

    topo.pg.psql("CREATE DATABASE jixiao_restored OWNER jixiao ENCODING 'UTF8' TEMPLATE template0")
    restored = {
        **topo.env,
        "DATABASE_URL": topo.pg.url("jixiao_restored"),
        "MEDIA_ROOT": str(topo.tmp / "restored" / "media"),
        "PRIVATE_MEDIA_ROOT": str(topo.tmp / "restored" / "private"),
    }
    start = time.monotonic()
    done = subprocess.run(
        ["bash", "scripts/restore", str(backup)],
        cwd=BASE_DIR,
        env=restored,
        capture_output=True,
        text=True,
        timeout=900,
    )
    restore_seconds = time.monotonic() - start
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    assert "restore: OK" in out
    files = next(line for line in out.splitlines() if "referenced files present" in line)

    restored_legacy = topo.tmp / "restored" / "media" / "legacy" / "before-private-uploads.txt"
    assert restored_legacy.read_text(encoding="utf-8") == legacy.read_text(encoding="utf-8")

    # the restored copy verifies on its own, and holds what the source held
    audit = topo.manage("verify_audit", env=restored)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    source_rows = pgconn.execute("SELECT count(*) FROM processes_budgetproject").fetchone()[0]
    restored_rows = int(topo.pg.psql("SELECT count(*) FROM processes_budgetproject", db="jixiao_restored"))
    assert restored_rows <= source_rows and restored_rows > 0

    # a second restore into the same (now full) database is refused, nothing overwritten
    again = subprocess.run(
        ["bash", "scripts/restore", str(backup)],
        cwd=BASE_DIR,
        env=restored,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 2 and "not empty" in again.stderr
    record(
        "backup + restore",
        {
            "backup_s": round(backup_seconds, 1),
            "restore_and_checks_s": round(restore_seconds, 1),
            "dump_kb": (backup / "database.dump").stat().st_size // 1024,
            "files": files.replace("restore: ", ""),
            "verify_audit": "ok",
        },
    )
