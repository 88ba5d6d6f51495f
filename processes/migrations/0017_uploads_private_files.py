"""Pre-assessment reports and job input files move to the private storage (decision 0015).

They were kept on the default storage, under MEDIA_ROOT, which DEBUG served to anyone at
/media/…. The fields now use processes.files.private_storage (PRIVATE_MEDIA_ROOT), and
this migration moves every file already uploaded from MEDIA_ROOT to PRIVATE_MEDIA_ROOT
under the same name, so nothing uploaded before is lost. A name already taken in the
private root gets a fresh one (the row is updated). A file the row names but MEDIA_ROOT
does not hold is left as it is (its download answers 404, as before the move). Reversing
moves them back."""

import shutil
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import migrations, models

import processes.files

#: (model, field) of the uploads that lived on the default storage.
MOVED = (("preassessment", "report"), ("job", "file"))


def _move(apps, source_root: str, target_root: str) -> None:
    if Path(source_root).resolve() == Path(target_root).resolve():
        return
    target = FileSystemStorage(location=target_root)
    for model_name, field in MOVED:
        model = apps.get_model("processes", model_name)
        for pk, name in model.objects.exclude(**{field: ""}).values_list("pk", field).iterator():
            source = Path(source_root) / name
            if not source.is_file():
                continue
            new_name = name if not target.exists(name) else target.get_available_name(name)
            destination = Path(target.path(new_name))
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(source), str(destination))
            if new_name != name:
                model.objects.filter(pk=pk).update(**{field: new_name})


def to_private(apps, schema_editor):
    _move(apps, settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT)


def to_public(apps, schema_editor):
    _move(apps, settings.PRIVATE_MEDIA_ROOT, settings.MEDIA_ROOT)


class Migration(migrations.Migration):
    dependencies = [
        ("processes", "0016_lean_audit_and_row_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="job",
            name="file",
            field=models.FileField(
                blank=True, storage=processes.files.private_storage, upload_to="jobs/%Y/", verbose_name="文件"
            ),
        ),
        migrations.AlterField(
            model_name="preassessment",
            name="report",
            field=models.FileField(
                blank=True,
                storage=processes.files.private_storage,
                upload_to="pre_assessment/%Y/",
                verbose_name="评估报告",
            ),
        ),
        migrations.RunPython(to_private, to_public, elidable=False),
    ]
