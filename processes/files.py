"""Files people upload (evaluation reports now, rectification evidence later): kept outside
the web root, served only through views that check who may see the object, and accepted
only when their content is what they claim to be."""

from __future__ import annotations

import zipfile

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.utils.functional import LazyObject
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
