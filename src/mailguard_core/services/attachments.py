"""The attachment use cases of :class:`~mailguard_core.services.use_cases.MailboxService`:
list an attachment, save it through the :class:`~mailguard_core.ports.downloads.DownloadStore`
port, or read its text in the isolated extractor. Declared types are compared with what the
bytes are (``mime_type_mismatch``, by the sanitizer's one rule:
:func:`~mailguard_core.sanitize.files.type_mismatch_severity`)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import attrs

from mailguard_core.config import AccountConfig
from mailguard_core.model.errors import InputError
from mailguard_core.model.values import MessageRef
from mailguard_core.ports.downloads import DownloadStore
from mailguard_core.ports.mail_store import MailStore
from mailguard_core.sanitize import (
    ExtractOptions,
    SecurityWarning,
    extract_attachment_text,
    safe_filename,
    sanitize_text,
    sniff_content_type,
)
from mailguard_core.sanitize.api import CTYPE_RE
from mailguard_core.sanitize.files import type_mismatch_severity
from mailguard_core.services.results import AttachmentList, AttachmentRead, Downloaded


class AttachmentCases:
    """The attachment tools (mixed into ``MailboxService``, which provides the fields)."""

    account: AccountConfig
    store: MailStore
    _downloads: DownloadStore | None
    _extra_options: dict[str, Any]
    _own_domains: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.account.name

    def _check_refs(self, refs: Sequence[MessageRef]) -> None:
        raise NotImplementedError  # pragma: no cover - MailboxService's

    def list_attachments(self, ref: MessageRef) -> AttachmentList:
        self._check_refs([ref])
        attachments = []
        warnings: list[SecurityWarning] = []
        for info in self.store.attachments(ref):
            location = f"attachment:{info.part_id}"
            name: str | None = None
            if info.filename is not None:
                name, found = safe_filename(info.filename, fallback=f"part-{info.part_id}")
                warnings.extend(found)
            ctype, found = sanitize_text(info.content_type, location=location, max_chars=200)
            warnings.extend(found)
            attachments.append(attrs.evolve(info, filename=name, content_type=ctype))
        return AttachmentList(ref=ref, attachments=tuple(attachments), warnings=tuple(warnings))

    def download_attachment(self, ref: MessageRef, part_id: str) -> Downloaded:
        self._check_refs([ref])
        part = self.store.fetch_part(ref, part_id)
        name, warnings = safe_filename(part.filename, fallback=f"attachment-{ref.uid}-{part_id}")
        saved = self._need_downloads().save(name, part.content)
        declared = part.content_type.split(";", 1)[0].strip().lower()
        if not CTYPE_RE.fullmatch(declared):  # the warning's detail holds no sender text
            declared = "application/octet-stream"
        sniffed = sniff_content_type(part.content)
        grade = type_mismatch_severity(part.content_type, part.content, name)
        if grade is not None:
            detail = {"declared": declared[:100], "sniffed": sniffed}
            found_mismatch = SecurityWarning(
                code="mime_type_mismatch", severity=grade, location=f"attachment:{part_id}",
                detail=detail,
            )  # fmt: skip
            warnings = [*warnings, found_mismatch]
        shown_type, found = sanitize_text(
            part.content_type, location=f"attachment:{part_id}", max_chars=200
        )
        return Downloaded(
            ref=ref,
            part_id=part_id,
            saved=saved,
            size_bytes=len(part.content),
            sha256=hashlib.sha256(part.content).hexdigest(),
            sniffed_type=sniffed,
            declared_type=shown_type,
            warnings=(*warnings, *found),
        )

    def read_attachment(
        self, ref: MessageRef, part_id: str, *, max_chars: int | None = None
    ) -> AttachmentRead:
        """The sanitized text of one attachment (``extract_attachment_text``, isolated)."""
        self._check_refs([ref])
        part = self.store.fetch_part(ref, part_id)
        detector = self._extra_options.get("detector")
        text = extract_attachment_text(
            part.content,
            content_type=part.content_type,
            filename=part.filename,
            options=ExtractOptions(
                max_input_bytes=self.account.max_attachment_bytes,
                max_chars=max_chars or self.account.max_body_chars,
                known_domains=tuple(self.account.known_domains) + self._own_domains,
                detector=detector,
            ),
        )
        return AttachmentRead(ref=ref, part_id=part_id, text=text)

    def _need_downloads(self) -> DownloadStore:
        if self._downloads is None:
            raise InputError(
                f"account {self.name!r} has no download store",
                public="this account cannot save attachments",
            )
        return self._downloads
