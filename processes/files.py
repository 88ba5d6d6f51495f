"""Files people upload (pre-assessment and evaluation reports, rectification evidence, the
input files of background jobs): kept outside the web root (settings.PRIVATE_MEDIA_ROOT),
served only through views that check who may see the object (``file_response``), and
accepted only when their content is what they claim to be (``check_upload``,
``check_xlsx``). Nothing uploaded is ever served from a public URL (decision 0015)."""

from __future__ import annotations

import zipfile
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, Http404, HttpResponse
from django.utils.functional import LazyObject
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _


class _PrivateStorage(LazyObject):
    def _setup(self) -> None:
        self._wrapped = FileSystemStorage(location=settings.PRIVATE_MEDIA_ROOT, base_url=None)


_private = _PrivateStorage()


def private_storage():
    """The storage of private uploads (settings.PRIVATE_MEDIA_ROOT, never served as static)."""
    return _private


#: Kinds accepted, by content: (label, extensions).
KINDS = {
    "pdf": ("PDF", (".pdf",)),
    "png": ("PNG", (".png",)),
    "jpeg": ("JPEG", (".jpg", ".jpeg")),
    "ooxml": ("Office", (".docx", ".xlsx", ".pptx")),
    "ole": ("Office 97–2003", (".doc", ".xls", ".ppt")),
}


def sniff(head: bytes, file) -> str | None:
    """The kind of a file by its first bytes (and, for a zip, its members); None if not accepted."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if head.startswith(b"PK\x03\x04"):
        try:
            file.seek(0)
            with zipfile.ZipFile(file) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            return None
        finally:
            file.seek(0)
        if "[Content_Types].xml" in names and any(n.split("/")[0] in ("word", "xl", "ppt") for n in names):
            return "ooxml"
    return None


def check_upload(file, *, field: str, max_bytes: int | None = None) -> str:
    """Refuse an upload that is too big, or whose content is not PDF, an image or an Office
    document, or whose name does not match its content. Returns its kind."""
    limit = max_bytes or settings.JIXIAO["UPLOAD_MAX_BYTES"]
    if file.size > limit:
        raise ValidationError(
            {field: _("文件过大：上限为 %(mb)s MB。") % {"mb": limit // (1024 * 1024)}}, code="too_large"
        )
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    kind = sniff(head, file)
    if kind is None:
        raise ValidationError({field: _("只接受 PDF、图片（PNG、JPEG）和 Office 文件。")}, code="bad_type")
    name = (getattr(file, "name", "") or "").lower()
    if not name.endswith(KINDS[kind][1]):
        raise ValidationError(
            {field: _("文件名与内容不符：内容是 %(kind)s 文件。") % {"kind": KINDS[kind][0]}}, code="bad_type"
        )
    return kind


#: The content type an .xlsx workbook's [Content_Types].xml names for its main part.
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


def is_xlsx(file) -> bool:
    """Whether ``file`` is an Excel workbook by its content: a zip archive whose
    [Content_Types].xml names a spreadsheet's main part (not just a name ending .xlsx)."""
    try:
        file.seek(0)
        if file.read(4) != b"PK\x03\x04":
            return False
        file.seek(0)
        with zipfile.ZipFile(file) as archive:
            with archive.open("[Content_Types].xml") as types:
                content_types = types.read(1024 * 1024)
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, ValueError):
        return False
    finally:
        file.seek(0)
    return XLSX_MAIN.encode() in content_types


def check_xlsx(file, *, field: str) -> None:
    """Refuse an upload meant to be an .xlsx workbook whose name or content is not one."""
    name = (getattr(file, "name", "") or "").lower()
    if not name.endswith(".xlsx"):
        raise ValidationError({field: _("只能导入 Excel 工作簿（.xlsx）文件。")}, code="bad_type")
    if not is_xlsx(file):
        raise ValidationError(
            {field: _("文件内容不是 Excel 工作簿：请上传用 Excel 保存的 .xlsx 文件（不能只改扩展名）。")},
            code="bad_type",
        )


def file_response(field, *, filename: str | None = None) -> FileResponse:
    """A stored upload as a download, for a view that has already checked the reader's right
    to the object: always an attachment (never rendered in the site's origin), its type not
    to be sniffed. A file missing from the storage is a 404, not a server error."""
    name = Path(filename or field.name or "file").name
    try:
        handle = field.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404(_("文件不存在。")) from exc
    response = FileResponse(handle, as_attachment=True, filename=name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def xlsx_response(content: bytes, filename: str, *, fallback: str) -> HttpResponse:
    """A workbook built here as a download whose Chinese ``filename`` travels as RFC 5987
    ``filename*`` (UTF-8), after an ASCII ``fallback`` for clients that read only ``filename``."""
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = (
        f"{content_disposition_header(True, fallback)}; filename*=utf-8''{quote(filename, safe='')}"
    )
    return response
