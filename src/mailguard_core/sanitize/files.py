"""Attachment names and content types: safe file names and magic-byte sniffing."""

from __future__ import annotations

import re

from mailguard_core.sanitize.text import BIDI, normalize_text, truncate_graphemes
from mailguard_core.sanitize.warnings import SecurityWarning, Severity, WarningCollector

_RESERVED = frozenset(
    ["con", "prn", "aux", "nul", "clock$"]
    + [f"com{i}" for i in range(10)]
    + [f"lpt{i}" for i in range(10)]
)
_BAD_CHARS_RE = re.compile(r'[<>:"|?*\x00-\x1f]')
_DANGEROUS = frozenset(
    [
        "exe",
        "scr",
        "com",
        "bat",
        "cmd",
        "js",
        "jse",
        "vbs",
        "vbe",
        "jar",
        "msi",
        "msp",
        "ps1",
        "psm1",
        "lnk",
        "hta",
        "pif",
        "cpl",
        "wsf",
        "wsh",
        "reg",
        "dll",
        "sys",
        "iso",
        "img",
        "vhd",
        "vhdx",
        "application",
        "appref-ms",
        "gadget",
        "msc",
        "inf",
        "scf",
        "url",
        "apk",
        "dmg",
        "sh",
        "app",
    ]
)
_DOCUMENT = frozenset(
    [
        "pdf",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "ppt",
        "pptx",
        "txt",
        "rtf",
        "odt",
        "ods",
        "jpg",
        "jpeg",
        "png",
        "gif",
        "bmp",
        "tif",
        "tiff",
        "csv",
        "zip",
        "rar",
        "7z",
        "html",
        "htm",
        "eml",
        "msg",
        "mp3",
        "mp4",
        "mov",
        "wav",
    ]
)
_MAX_NAME = 200

#: magic prefixes -> content type; checked in order
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"PK\x05\x06", "application/zip"),
    (b"MZ", "application/x-msdownload"),
    (b"\x7fELF", "application/x-executable"),
    (b"\xcf\xfa\xed\xfe", "application/x-mach-binary"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
    (b"\x1f\x8b", "application/gzip"),
    (b"Rar!\x1a\x07", "application/vnd.rar"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"{\\rtf", "application/rtf"),
    (b"%!PS", "application/postscript"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)

#: declared types that a sniffed type may legitimately carry
_COMPATIBLE: dict[str, tuple[str, ...]] = {
    "application/zip": (
        "application/zip", "application/x-zip", "application/x-zip-compressed",
        "application/vnd.openxmlformats", "application/vnd.oasis", "application/java-archive",
        "application/epub+zip", "application/vnd.ms-", "application/x-java-archive",
        "application/vnd.android.package-archive", "application/msword", "application/vnd.apple",
    ),
    "application/x-ole-storage": (
        "application/msword", "application/vnd.ms-", "application/x-msi", "application/x-ole",
        "application/vnd.visio",
    ),
    "image/jpeg": ("image/jpeg", "image/jpg", "image/pjpeg"),
    "application/pdf": ("application/pdf", "application/x-pdf", "application/acrobat"),
    "application/gzip": ("application/gzip", "application/x-gzip", "application/x-tar"),
    "application/rtf": ("application/rtf", "text/rtf", "application/msword"),
    "application/x-msdownload": (
        "application/x-msdownload", "application/x-dosexec", "application/x-msdos-program",
        "application/vnd.microsoft.portable-executable", "application/x-ms-installer",
    ),
    # text kinds only the extractor tells apart (no magic bytes): sanitize/attachment.sniff
    "text/html": ("text/html", "application/xhtml+xml", "text/plain"),
    "text/calendar": ("text/calendar", "application/ics", "text/x-vcalendar"),
    "message/rfc822": ("message/rfc822", "text/plain", "message/global"),
    "text/plain": ("text/",),
}  # fmt: skip
#: sniffed types that run when opened
_PROGRAMS = frozenset({"application/x-msdownload", "application/x-executable"})
#: sniffed types that only show a picture when opened (a mislabelled one hides nothing)
_PICTURES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/tiff"})
#: sniffed archive formats, and the declared types that say "an archive" (any format)
_ARCHIVES = frozenset(
    {"application/zip", "application/gzip", "application/vnd.rar", "application/x-7z-compressed"}
)
_ARCHIVE_DECLARED = (
    "application/zip", "application/x-zip", "application/gzip", "application/x-gzip",
    "application/x-tar", "application/vnd.rar", "application/x-rar", "application/x-7z",
    "application/x-compressed",
)  # fmt: skip
#: declared types and name extensions a viewer renders or runs (a polyglot's second reading)
_ACTIVE_DECLARED = (
    "text/html", "application/xhtml", "image/svg", "text/xml", "application/xml",
    "application/javascript", "text/javascript", "application/x-javascript",
    "application/ecmascript", "text/vbscript", "application/hta", "application/pdf",
    "application/x-ms", "application/x-sh", "application/x-executable", "application/java",
    "application/vnd.microsoft.portable-executable",
)  # fmt: skip
_ACTIVE_EXT = frozenset({"html", "htm", "shtml", "xhtml", "svg", "xml", "pdf", "mht", "mhtml"})
#: declared types that claim nothing about the content
_UNSPECIFIC = frozenset(
    {
        "application/octet-stream",
        "binary/octet-stream",
        "application/unknown",
        "application/x-unknown",
        "application/x-download",
        "application/force-download",
    }
)


def sniff_content_type(data: bytes) -> str | None:
    """The content type that ``data``'s magic bytes say, or None when not recognised."""
    for prefix, ctype in _MAGIC:
        if data.startswith(prefix):
            return ctype
    if data[8:12] == b"WEBP" and data.startswith(b"RIFF"):
        return "image/webp"
    return None


def type_mismatch(declared: str, data: bytes, filename: str | None) -> bool:
    """True when the declared type (or the name's extension) contradicts the magic bytes."""
    return type_mismatch_severity(declared, data, filename) is not None


def type_mismatch_severity(declared: str, data: bytes, filename: str | None) -> Severity | None:
    """:func:`mismatch_severity` of ``data``'s magic bytes: what a listing, a download and the
    text extractor each warn (``mime_type_mismatch``) for one attachment."""
    return mismatch_severity(declared, filename, sniff_content_type(data[:16]))


def mismatch_severity(declared: str, filename: str | None, detected: str | None) -> Severity | None:
    """How much a contradiction between an attachment's label and what its bytes are matters.

    The one rule for ``mime_type_mismatch``. ``declared`` is the Content-Type (parameters and
    case ignored), ``filename`` the name it came with (None: no name), ``detected`` the type
    the bytes are: :func:`sniff_content_type`'s magic where there is one (the extractor's
    reading of text kinds otherwise); None decides nothing.

    None: no contradiction (also for a generic declared type such as
    ``application/octet-stream``, unless a program carries a document's name).
    ``informational``: the content is a picture declared as another passive type, or an
    archive declared as another archive format; opening it shows what it is, nothing in it
    runs that its label hid. ``adversarial``: anything else, above all active content (an
    executable, an OLE or PDF document, RTF, PostScript, an archive) under a label that says
    something else, or a picture labelled as a type a viewer renders actively.
    """
    if detected is None:
        return None
    declared = declared.split(";", 1)[0].strip().lower()
    ext = extension(filename)
    if detected in _PROGRAMS and ext in _DOCUMENT:
        return "adversarial"
    if declared in _UNSPECIFIC or not declared:
        return None
    if declared.startswith(_COMPATIBLE.get(detected, (detected,))):
        return None
    active_label = declared.startswith(_ACTIVE_DECLARED) or ext in _DANGEROUS or ext in _ACTIVE_EXT
    if detected in _PICTURES and not active_label:
        return "informational"
    if detected in _ARCHIVES and declared.startswith(_ARCHIVE_DECLARED) and not active_label:
        return "informational"
    return "adversarial"


def extension(filename: str | None) -> str:
    """A name's last extension, lower case without surrounding white space ("" for none)."""
    if not filename or "." not in filename:
        return ""
    return filename.rsplit(".", 1)[-1].strip().lower()


def safe_filename(name: str | None, *, fallback: str) -> tuple[str, list[SecurityWarning]]:
    """Make an attachment name safe to show and to save; list what was changed.

    No path parts, no reserved device names, no controls or bidi characters, at most 200
    characters. ``filename_spoof`` for bidi controls or a deceptive double extension,
    ``filename_rewritten`` for any other change.
    """
    warnings = WarningCollector()
    location = "attachment:filename"
    if not name or not name.strip():
        return fallback, []
    collector = WarningCollector()
    clean = normalize_text(name, location, collector)
    rewritten = clean != name
    if BIDI in collector.codes():
        warnings.add("filename_spoof", location, {"reason": "bidi_control"})
    clean = clean.replace("\n", " ").replace("\t", " ")
    base = re.split(r"[/\\]", clean)[-1]
    base = _BAD_CHARS_RE.sub("_", base).strip().lstrip(".").rstrip(". ")
    if base != clean:
        rewritten = True
    stem = base.split(".", 1)[0].strip().lower()
    if stem in _RESERVED:
        base = "_" + base
        rewritten = True
    if len(base) > _MAX_NAME:
        ext = base.rsplit(".", 1)[-1] if "." in base and len(base.rsplit(".", 1)[-1]) <= 10 else ""
        head, _ = truncate_graphemes(base, _MAX_NAME - len(ext) - 1)
        base = f"{head}.{ext}" if ext else head
        rewritten = True
    if not base:
        base = fallback
        rewritten = True
    parts = [p.strip().lower() for p in base.split(".")]
    if len(parts) >= 3 and parts[-1] in _DANGEROUS and parts[-2] in _DOCUMENT:
        warnings.add("filename_spoof", location, {"reason": "double_extension"})
    elif re.search(r"\s{3,}\.\w+$", base) and parts[-1] in _DANGEROUS:
        warnings.add("filename_spoof", location, {"reason": "padded_extension"})
    if rewritten:
        warnings.add("filename_rewritten", location, {})
    return base, warnings.items()
