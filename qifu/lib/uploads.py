"""The one check every uploaded file passes, on pages and in the API: appeal attachments, policy
application materials, enterprise and profile imports, policy YAML and calendar files.

A file is accepted when its name has an allowed extension for that use AND its content is of that type
(magic bytes, or for text: decodable text that is not markup), it is not empty and not larger than the
use's limit. Web pages, SVG images and programs are never accepted, whatever they are called: a file an
officer downloads must not run code in the browser or on the desktop.

    name = uploads.check(upload, uploads.DOCUMENT)      # raises UploadError (a 400 with the reason)
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from django import forms
from django.utils.translation import gettext as _

from .inputs import NUL, InputError

NAME_MAX = 200
MB = 1024 * 1024

# Content signatures (magic bytes).
PDF = (b"%PDF-",)
JPEG = (b"\xff\xd8\xff",)
PNG = (b"\x89PNG\r\n\x1a\n",)
GIF = (b"GIF87a", b"GIF89a")
OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)  # .doc .xls .ppt .wps .et (compound file)
ZIP = (b"PK\x03\x04",)
RAR = (b"Rar!\x1a\x07",)
SEVEN_ZIP = (b"7z\xbc\xaf\x27\x1c",)
# Never, whatever the name says: executables and scripts.
EXECUTABLE = (b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xfe\xed\xfa", b"\xcf\xfa\xed\xfe", b"#!")
# Markup that a browser would run (HTML, SVG, XML with scripts): refused in any "text" file.
MARKUP = (b"<!doctype", b"<html", b"<svg", b"<script", b"<?xml", b"<head", b"<body", b"<iframe", b"<object",
          b"<embed", b"<meta", b"<a ", b"<img", b"<div", b"<xml")


class UploadError(InputError):
    """The file is refused; the message names it and says why."""


@dataclass(frozen=True)
class Kind:
    """One use of uploads: which extensions, each with how its content must look, and the size limit."""

    name: str
    types: dict  # extension → "text" | "ooxml" | "ofd" | tuple of signatures
    max_bytes: int


_TEXT = "text"
_OOXML = "ooxml"
_OFD = "ofd"
_OLE_OR_ZIP = OLE + ZIP

DOCUMENT = Kind("document", {
    ".pdf": PDF, ".jpg": JPEG, ".jpeg": JPEG, ".png": PNG, ".gif": GIF, ".webp": "webp",
    ".doc": OLE, ".xls": OLE, ".ppt": OLE, ".wps": _OLE_OR_ZIP, ".et": _OLE_OR_ZIP,
    ".docx": _OOXML, ".xlsx": _OOXML, ".pptx": _OOXML, ".ofd": _OFD,
    ".zip": ZIP, ".rar": RAR, ".7z": SEVEN_ZIP, ".txt": _TEXT, ".csv": _TEXT,
}, 20 * MB)
SPREADSHEET = Kind("spreadsheet", {".csv": _TEXT, ".xlsx": _OOXML}, 20 * MB)
YAML = Kind("yaml", {".yaml": _TEXT, ".yml": _TEXT, ".txt": _TEXT}, 2 * MB)
CALENDAR = Kind("calendar", {".csv": _TEXT, ".txt": _TEXT}, 1 * MB)


def clean_name(raw: str | None) -> str:
    """The file's own name: no folders, no control characters, at most NAME_MAX characters (the
    extension kept)."""
    raw = raw or ""
    if NUL in raw:
        raise UploadError(_("The file name contains a NUL character."))
    name = PureWindowsPath(PurePosixPath(raw).name).name
    name = "".join(c for c in name if ord(c) >= 32 and ord(c) != 127).strip().strip(".") or "file"
    if len(name) > NAME_MAX:
        suffix = PurePosixPath(name).suffix[:16]
        name = name[: NAME_MAX - len(suffix)] + suffix
    return name


def _read(upload, limit: int) -> bytes:
    """At most `limit` bytes from the start of the upload, leaving it at the start."""
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit)
    if hasattr(upload, "seek"):
        upload.seek(0)
    return data if isinstance(data, bytes) else data.encode("utf-8")


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    if data.startswith(EXECUTABLE):
        return False
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        break
    else:
        return False
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return not any(marker in head for marker in MARKUP)


def _zip_names(data: bytes) -> set[str] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        return None


def _content_matches(expected, head: bytes, upload, size: int) -> bool:
    if head.startswith(EXECUTABLE) and expected != _TEXT:
        return False
    if expected == _TEXT:
        return _is_text(_read(upload, size))
    if expected == "webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if expected in (_OOXML, _OFD):
        if not head.startswith(ZIP):
            return False
        names = _zip_names(_read(upload, size))
        if names is None:
            return False
        return "[Content_Types].xml" in names if expected == _OOXML else any(
            n.upper() == "OFD.XML" for n in names)
    if expected == PDF:
        return PDF[0] in head[:1024]
    return head.startswith(expected)


def check(upload, kind: Kind) -> str:
    """Accept `upload` for `kind` or raise UploadError; returns the file's clean name."""
    name = clean_name(getattr(upload, "name", ""))
    suffix = PurePosixPath(name).suffix.lower()
    expected = kind.types.get(suffix)
    if expected is None:
        raise UploadError(_("Files of this type are not accepted: %(name)s. Accepted: %(types)s.") % {
            "name": name, "types": " ".join(sorted(kind.types))})
    size = getattr(upload, "size", None)
    if size is None:
        size = len(_read(upload, kind.max_bytes + 1))
    if not size:
        raise UploadError(_("The file %(name)s is empty.") % {"name": name})
    if size > kind.max_bytes:
        raise UploadError(_("%(name)s is larger than %(mb)d MB.") % {"name": name, "mb": kind.max_bytes // MB})
    head = _read(upload, 4096)
    if not _content_matches(expected, head, upload, size):
        raise UploadError(_("The content of %(name)s is not a %(type)s file.") % {
            "name": name, "type": suffix.lstrip(".").upper()})
    return name


class FileField(forms.FileField):
    """A form's file field that runs `check` for its `kind`: the page shows the reason next to the field."""

    def __init__(self, *args, kind: Kind, **kwargs):
        self.kind = kind
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if upload:
            try:
                upload.name = check(upload, self.kind)
            except UploadError as error:
                raise forms.ValidationError(str(error)) from None
        return upload
