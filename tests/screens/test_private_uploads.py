"""Every upload goes through the content check and the private storage, and is served only
to those who may see its object (decision 0015): the pre-assessment report, the input
files of background jobs, the indicator import; no /media/ URL, not even with DEBUG."""

from __future__ import annotations

import importlib
import io
import zipfile
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import clear_url_caches, reverse

from processes.files import check_xlsx, is_xlsx, private_storage
from processes.models import Job, PreAssessment
from processes.services.indicators import indicator_import_start
from processes.services.jobs import job_start
from processes.states import PreAssessmentStatus
from tests.processes.test_indicators import GOOD_ROWS, xlsx
from tests.screens.test_pre_assessment_pages import act, drawn, page, review, submit_all  # noqa: F401

pytestmark = pytest.mark.django_db

HTML = b"<!doctype html><html><body><script>fetch('/api/')</script></body></html>"
PDF = b"%PDF-1.4 the agency's report"


def conclude(client, pa, report):
    return client.post(
        act(pa, "conclude"),
        {
            "conclude-conclusion": "partial",
            "conclude-approved_amount": "30000000",
            "conclude-reasons": "核减",
            "conclude-report": report,
        },
    )


@pytest.fixture
def public_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "public")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def debug_urls(settings):
    """The URLconf as `make run` (DEBUG) builds it."""
    import config.urls

    settings.DEBUG = True
    importlib.reload(config.urls)
    clear_url_caches()
    yield
    settings.DEBUG = False
    importlib.reload(config.urls)
    clear_url_caches()


def files_under(root) -> list[Path]:
    return [p for p in Path(root).rglob("*") if p.is_file()]


# -- the pre-assessment report ------------------------------------------------------------------


def test_report_is_refused_and_nothing_written_when_html_disguised_as_pdf(client, review, public_root):  # noqa: F811
    pa = submit_all(drawn(review))
    client.force_login(review.staff)

    response = conclude(client, pa, SimpleUploadedFile("评估报告.pdf", HTML, content_type="application/pdf"))

    assert response.status_code == 400
    assert "只接受 PDF、图片（PNG、JPEG）和 Office 文件" in response.content.decode()
    pa.refresh_from_db()
    assert pa.status == PreAssessmentStatus.OPINIONS_COLLECTED and not pa.report and pa.conclusion == ""
    assert files_under(public_root) == []


def test_report_is_refused_when_pdf_named_as_image(client, review, public_root):  # noqa: F811
    pa = submit_all(drawn(review))
    client.force_login(review.staff)

    response = conclude(client, pa, SimpleUploadedFile("报告.png", PDF, content_type="image/png"))

    assert response.status_code == 400 and "文件名与内容不符" in response.content.decode()
    assert not PreAssessment.objects.get(pk=pa.pk).report


def test_report_is_private_and_served_only_to_readers_when_uploaded(
    client,
    review,  # noqa: F811
    public_root,
    settings,
    debug_urls,
):
    pa = submit_all(drawn(review))
    client.force_login(review.staff)
    assert (
        conclude(client, pa, SimpleUploadedFile("评估报告.pdf", PDF, content_type="application/pdf")).status_code == 302
    )
    pa.refresh_from_db()

    assert pa.report.storage is private_storage()
    stored = Path(settings.PRIVATE_MEDIA_ROOT) / pa.report.name
    assert stored.read_bytes() == PDF
    assert files_under(public_root) == []
    url = reverse("workflows:pre_assessment_report", args=[pa.pk])
    assert url in client.get(page(pa)).content.decode()

    # the agency's staff, the finance officer: the file, as an attachment never sniffed
    for reader in (review.staff, review.d.finance):
        client.force_login(reader)
        download = client.get(url)
        assert download.status_code == 200
        assert b"".join(download.streaming_content) == PDF
        assert download["Content-Disposition"].startswith("attachment;")
        assert download["X-Content-Type-Options"] == "nosniff"

    # another department: not found; anonymous: the login page, not the file
    client.force_login(review.d.staff_b)
    assert client.get(url).status_code == 404
    client.logout()
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))

    # no /media/ URL serves it, even with DEBUG, whoever asks
    for name in (f"/media/{pa.report.name}", f"/media/{Path(pa.report.name).name}"):
        assert client.get(name).status_code == 404
        client.force_login(review.staff)
        assert client.get(name).status_code == 404
        client.logout()


def test_media_url_serves_nothing_when_debug_even_for_a_file_left_in_media_root(
    client, district, public_root, debug_urls
):
    public_root.mkdir(parents=True)
    (public_root / "leftover.html").write_bytes(HTML)
    client.force_login(district.finance)

    assert client.get("/media/leftover.html").status_code == 404


def test_download_is_404_when_the_file_is_missing_from_the_storage(client, review, settings):  # noqa: F811
    pa = submit_all(drawn(review))
    PreAssessment.objects.filter(pk=pa.pk).update(report="pre_assessment/2026/gone.pdf")
    client.force_login(review.d.finance)

    assert client.get(reverse("workflows:pre_assessment_report", args=[pa.pk])).status_code == 404


# -- job input files ---------------------------------------------------------------------------------


def test_job_input_file_is_kept_in_the_private_root_when_a_job_starts(district, public_root, settings):
    job = job_start(kind="indicator_import", actor=district.finance, file=xlsx(GOOD_ROWS))

    assert job.file.storage is private_storage()
    assert Path(job.file.path).is_relative_to(Path(settings.PRIVATE_MEDIA_ROOT))
    assert Path(job.file.path).is_file()
    assert files_under(public_root) == []


def test_job_input_file_is_not_served_when_debug(client, district, public_root, debug_urls):
    job = job_start(kind="indicator_import", actor=district.finance, file=xlsx(GOOD_ROWS))
    client.force_login(district.finance)

    assert client.get(f"/media/{job.file.name}").status_code == 404


# -- the indicator import checks the content -------------------------------------------------------


def fake_xlsx(content: bytes, name="indicators.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/vnd.ms-excel")


def docx_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types><Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


@pytest.mark.parametrize(
    "content",
    [b"code,name\nG0001,x\n", HTML, b"PK\x03\x04 not really a zip", docx_bytes()],
    ids=["csv", "html", "broken-zip", "docx"],
)
def test_import_is_refused_with_a_chinese_message_when_xlsx_suffixed_file_is_not_a_workbook(
    client, district, public_root, settings, content
):
    client.force_login(district.finance)
    before = files_under(settings.PRIVATE_MEDIA_ROOT)

    response = client.post(reverse("processes:indicator_import"), {"file": fake_xlsx(content)})

    assert response.status_code == 400
    assert "文件内容不是 Excel 工作簿" in response.content.decode()
    assert not Job.objects.exists()
    assert files_under(settings.PRIVATE_MEDIA_ROOT) == before


def test_import_api_refuses_with_400_when_xlsx_suffixed_file_is_not_a_workbook(district):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(district.finance)

    response = api.post("/api/indicators/import/", {"file": fake_xlsx(HTML)}, format="multipart")

    assert response.status_code == 400
    assert "文件内容不是 Excel 工作簿" in str(response.json()["file"])
    assert not Job.objects.exists()


def test_import_service_accepts_a_real_workbook_and_refuses_a_renamed_one(district):
    job = indicator_import_start(actor=district.finance, file=xlsx(GOOD_ROWS))
    assert job.file.name.endswith(".xlsx")
    with pytest.raises(ValidationError) as refused:
        indicator_import_start(actor=district.finance, file=fake_xlsx(docx_bytes()))
    assert "file" in refused.value.message_dict


def test_xlsx_check_reads_the_content_not_the_name_when_called():
    real = xlsx(GOOD_ROWS)
    assert is_xlsx(real) and real.tell() == 0
    check_xlsx(real, field="file")
    assert not is_xlsx(fake_xlsx(docx_bytes()))
    with pytest.raises(ValidationError):
        check_xlsx(xlsx(GOOD_ROWS, name="indicators.xls"), field="file")


# -- files uploaded before: moved from MEDIA_ROOT to the private root ------------------------------


def test_migration_moves_earlier_uploads_to_the_private_root_when_run(review, public_root, settings):  # noqa: F811
    migration = importlib.import_module("processes.migrations.0017_uploads_private_files")
    pa = submit_all(drawn(review))
    job = job_start(kind="indicator_import", actor=review.d.finance)
    for name in ("pre_assessment/2025/旧报告.pdf", "jobs/2025/old.xlsx", "jobs/2025/taken.xlsx"):
        (public_root / name).parent.mkdir(parents=True, exist_ok=True)
        (public_root / name).write_bytes(name.encode())
    private_storage().save("jobs/2025/taken.xlsx", ContentFile(b"already here"))
    other = job_start(kind="indicator_import", actor=review.d.finance)
    PreAssessment.objects.filter(pk=pa.pk).update(report="pre_assessment/2025/旧报告.pdf")
    Job.objects.filter(pk=job.pk).update(file="jobs/2025/old.xlsx")
    Job.objects.filter(pk=other.pk).update(file="jobs/2025/taken.xlsx")

    migration.to_private(django_apps, None)

    private = Path(settings.PRIVATE_MEDIA_ROOT)
    pa.refresh_from_db()
    job.refresh_from_db()
    other.refresh_from_db()
    assert pa.report.read() == "pre_assessment/2025/旧报告.pdf".encode()
    assert job.file.read() == b"jobs/2025/old.xlsx"
    assert other.file.name != "jobs/2025/taken.xlsx" and other.file.read() == b"jobs/2025/taken.xlsx"
    assert (private / "jobs/2025/taken.xlsx").read_bytes() == b"already here"
    assert files_under(public_root) == []
