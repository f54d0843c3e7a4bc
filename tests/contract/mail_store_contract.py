"""The MailStore contract: one behaviour suite that every adapter's test class inherits.

A subclass provides the ``store`` fixture: a fresh, empty mailbox for account ``"acct"`` with
INBOX and the special-use folders Drafts, Sent, Trash, Junk and Archive. Everything else is
done through the port itself, so the same tests run against Dovecot, memory and Maildir.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from email.message import EmailMessage

import pytest

from mailguard_core.model.errors import (
    AttachmentNotFound,
    FolderNotFound,
    InputError,
    InvalidCursorError,
    InvalidFolderNameError,
    InvalidSearchError,
    MessageNotFound,
    MessageTooLarge,
    StaleReference,
)
from mailguard_core.model.values import MessageRef, SearchCriteria, require_account
from mailguard_core.ports import MailStore

ACCOUNT = "acct"
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def plain(
    subject: str = "hello",
    body: str = "body text\r\n",
    *,
    sender: str = "ann@example.org",
    to: str = "me@example.net",
    date: str = "Fri, 20 Nov 2026 09:14:03 +0100",
) -> bytes:
    """A simple text/plain message with CRLF line ends."""
    return (
        f"From: Ann <{sender}>\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\n"
        f"Message-ID: <{abs(hash((subject, body)))}@example.org>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}"
    ).encode()


def with_attachments() -> bytes:
    """multipart/mixed: a text body, a PDF attachment and an inline PNG."""
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = "ann@example.org"
    msg["To"] = "me@example.net"
    msg["Subject"] = "report attached"
    msg.set_content("see the report\n")
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="report.pdf")
    msg.add_attachment(
        PNG, maintype="image", subtype="png", filename="logo.png", disposition="inline"
    )
    return msg.as_bytes()


class MailStoreContract:
    """Inherit and provide ``store``; pytest collects the subclass (named ``Test...``)."""

    @pytest.fixture
    def store(self) -> MailStore:
        raise NotImplementedError

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _seed(store: MailStore, count: int, folder: str = "INBOX") -> list[MessageRef]:
        refs = []
        for i in range(count):
            ref = store.append(folder, plain(f"message {i}", f"body number {i}\r\n"))
            assert ref is not None
            refs.append(ref)
        return refs

    @staticmethod
    def _all(store: MailStore, folder: str = "INBOX") -> list[MessageRef]:
        return list(store.search(folder, SearchCriteria(), limit=500).refs)

    # ------------------------------------------------------------------ folders
    def test_lists_inbox_and_the_special_use_folders(self, store: MailStore) -> None:
        """INBOX and Drafts/Sent/Trash/Junk are listed; special_folders maps their uses."""
        names = {f.name for f in store.list_folders()}
        assert {"INBOX", "Drafts", "Sent", "Trash", "Junk"} <= names
        special = store.special_folders()
        assert special["\\Drafts"] == "Drafts"
        assert special["\\Sent"] == "Sent"
        assert special["\\Trash"] == "Trash"

    def test_folder_counts_report_messages_and_unseen(self, store: MailStore) -> None:
        """list_folders counts messages and unseen ones."""
        store.append("INBOX", plain("a"), flags=["\\Seen"])
        store.append("INBOX", plain("b"))
        [inbox] = [f for f in store.list_folders() if f.name == "INBOX"]
        assert (inbox.messages, inbox.unseen) == (2, 1)
        assert inbox.uidvalidity is not None and inbox.uidvalidity > 0

    def test_created_folders_with_unusual_names_round_trip(self, store: MailStore) -> None:
        """Non-ASCII, quotes, brackets and wildcard characters are ordinary name characters."""
        names = ["Entwürfe", 'say "hi"', "100% * sure", "日本語", "a[b]c(d)"]
        for name in names:
            store.create_folder(name)
        listed = {f.name for f in store.list_folders()}
        assert set(names) <= listed
        for name in names:
            ref = store.append(name, plain(f"in {name}"))
            assert ref is not None and ref.folder == name
            assert store.fetch(ref).data == plain(f"in {name}")

    def test_wildcards_in_a_name_never_match_other_folders(self, store: MailStore) -> None:
        """A folder named '*' is its own folder: it is empty while others hold mail."""
        self._seed(store, 2)
        store.create_folder("*")
        store.create_folder("%")
        assert self._all(store, "*") == []
        assert self._all(store, "%") == []
        assert len(self._all(store)) == 2

    def test_rename_and_delete_folder(self, store: MailStore) -> None:
        """A renamed folder keeps its mail under the new name; a deleted one is gone."""
        store.create_folder("Projects")
        store.append("Projects", plain("p"))
        store.rename_folder("Projects", "Done")
        names = {f.name for f in store.list_folders()}
        assert "Done" in names and "Projects" not in names
        assert len(self._all(store, "Done")) == 1
        store.delete_folder("Done")
        assert "Done" not in {f.name for f in store.list_folders()}
        with pytest.raises(FolderNotFound):
            self._all(store, "Done")

    def test_folder_operations_refuse_bad_targets(self, store: MailStore) -> None:
        """Existing names, INBOX and missing folders are refused with typed errors."""
        store.create_folder("Work")
        with pytest.raises(InputError):
            store.create_folder("Work")
        with pytest.raises(InputError):
            store.rename_folder("Work", "Sent")
        with pytest.raises(InputError):
            store.rename_folder("INBOX", "Old")
        with pytest.raises(InputError):
            store.delete_folder("INBOX")
        with pytest.raises(FolderNotFound):
            store.delete_folder("Nope")
        with pytest.raises(FolderNotFound):
            store.rename_folder("Nope", "Other")
        with pytest.raises(FolderNotFound):
            store.append("Nope", plain())

    @pytest.mark.parametrize("bad", ["a\r\nb", "a\nb", "a\rb", "a\x00b", "a\x07b", "", "x" * 300])
    def test_control_characters_in_folder_names_are_refused(
        self, store: MailStore, bad: str
    ) -> None:
        """CR, LF, NUL, other controls, empty and overlong names raise InvalidFolderNameError."""
        with pytest.raises(InvalidFolderNameError):
            store.create_folder(bad)
        with pytest.raises(InvalidFolderNameError):
            store.search(bad, SearchCriteria(), limit=10)
        with pytest.raises(InvalidFolderNameError):
            store.append(bad, plain())
        with pytest.raises(InvalidFolderNameError):
            store.rename_folder("Sent", bad)

    # ------------------------------------------------------------------ fetch
    def test_fetch_returns_the_exact_bytes_and_leaves_seen_unset(self, store: MailStore) -> None:
        """Fetched bytes equal the appended bytes; fetching does not mark the message read."""
        raw = plain("exact", "line one\r\nline two \t\r\n\r\ntrailing\r\n")
        ref = store.append("INBOX", raw)
        assert ref is not None
        fetched = store.fetch(ref)
        assert fetched.data == raw
        assert fetched.ref == ref
        assert "\\Seen" not in store.get_flags(ref)

    def test_fetch_refuses_a_message_over_max_bytes(self, store: MailStore) -> None:
        """max_bytes smaller than the message raises MessageTooLarge."""
        ref = store.append("INBOX", plain(body="x" * 2000))
        assert ref is not None
        with pytest.raises(MessageTooLarge):
            store.fetch(ref, max_bytes=500)
        assert store.fetch(ref, max_bytes=10_000).size_bytes > 2000

    def test_refs_are_checked_for_account_uid_and_folder(self, store: MailStore) -> None:
        """Another account: InputError, by the model's one rule (``require_account``, the same
        refusal as the services'); missing uid: MessageNotFound; missing folder: NotFound."""
        [ref] = self._seed(store, 1)
        foreign = MessageRef(
            account="other", folder="INBOX", uidvalidity=ref.uidvalidity, uid=ref.uid
        )
        with pytest.raises(InputError) as refused:
            store.fetch(foreign)
        with pytest.raises(InputError) as by_rule:
            require_account(ACCOUNT, [foreign])
        assert refused.value.public_message == by_rule.value.public_message
        with pytest.raises(MessageNotFound):
            store.fetch(
                MessageRef(
                    account=ACCOUNT, folder="INBOX", uidvalidity=ref.uidvalidity, uid=ref.uid + 50
                )
            )
        with pytest.raises(FolderNotFound):
            store.fetch(MessageRef(account=ACCOUNT, folder="Gone", uidvalidity=1, uid=1))

    def test_a_ref_from_before_a_uidvalidity_change_is_stale(self, store: MailStore) -> None:
        """Deleting and recreating a folder changes UIDVALIDITY: old refs raise StaleReference."""
        store.create_folder("Tmp")
        old = store.append("Tmp", plain("old"))
        assert old is not None
        store.delete_folder("Tmp")
        store.create_folder("Tmp")
        new = store.append("Tmp", plain("new"))
        assert new is not None and new.uidvalidity != old.uidvalidity
        with pytest.raises(StaleReference):
            store.fetch(old)
        with pytest.raises(StaleReference):
            store.set_flags([old], add=["\\Seen"])

    # ------------------------------------------------------------------ search
    def test_search_pages_newest_first_and_covers_every_match_once(self, store: MailStore) -> None:
        """Pages hold at most `limit` refs, highest uid first; all pages together = all matches."""
        refs = self._seed(store, 7)
        first = store.search("INBOX", SearchCriteria(), limit=3)
        assert first.total == 7
        assert [r.uid for r in first.refs] == sorted((r.uid for r in refs), reverse=True)[:3]
        seen = list(first.refs)
        cursor = first.next_cursor
        for _ in range(10):
            if cursor is None:
                break
            page = store.search("INBOX", SearchCriteria(), limit=3, cursor=cursor)
            assert len(page.refs) <= 3
            seen.extend(page.refs)
            cursor = page.next_cursor
        assert cursor is None
        assert seen == sorted(refs, key=lambda r: r.uid, reverse=True)

    def test_new_arrivals_do_not_shift_later_pages(self, store: MailStore) -> None:
        """Mail appended between pages appears in neither later page nor as a duplicate."""
        refs = self._seed(store, 5)
        first = store.search("INBOX", SearchCriteria(), limit=2)
        assert first.next_cursor is not None
        self._seed(store, 3)
        rest = store.search("INBOX", SearchCriteria(), limit=10, cursor=first.next_cursor)
        assert list(first.refs) + list(rest.refs) == sorted(refs, key=lambda r: r.uid, reverse=True)
        assert rest.next_cursor is None

    def test_a_cursor_only_applies_to_its_own_search(self, store: MailStore) -> None:
        """A cursor used with another folder or query, or edited, raises InvalidCursorError."""
        self._seed(store, 4)
        self._seed(store, 4, folder="Archive")
        page = store.search("INBOX", SearchCriteria(), limit=2)
        assert page.next_cursor is not None
        with pytest.raises(InvalidCursorError):
            store.search("Archive", SearchCriteria(), limit=2, cursor=page.next_cursor)
        with pytest.raises(InvalidCursorError):
            store.search("INBOX", SearchCriteria(subject="x"), limit=2, cursor=page.next_cursor)
        edited = page.next_cursor[:-3] + ("AAA" if not page.next_cursor.endswith("AAA") else "BBB")
        with pytest.raises(InvalidCursorError):
            store.search("INBOX", SearchCriteria(), limit=2, cursor=edited)
        with pytest.raises(InvalidCursorError):
            store.search("INBOX", SearchCriteria(), limit=2, cursor="not a cursor")

    def test_page_size_out_of_range_is_refused(self, store: MailStore) -> None:
        """limit must be 1..500."""
        for limit in (0, -1, 501):
            with pytest.raises(InputError):
                store.search("INBOX", SearchCriteria(), limit=limit)

    def test_structured_criteria_narrow_the_result(self, store: MailStore) -> None:
        """from, to, subject, text, seen and flagged each select the right messages."""
        a = store.append("INBOX", plain("Invoice 42", "pay now", sender="billing@shop.example"))
        b = store.append(
            "INBOX", plain("Lunch?", "pizza at noon", to="team@example.net"), flags=["\\Seen"]
        )
        c = store.append("INBOX", plain("Re: Lunch?", "yes please"), flags=["\\Flagged"])
        assert a and b and c

        def uids(**kw: object) -> set[int]:
            return {r.uid for r in store.search("INBOX", SearchCriteria(**kw), limit=50).refs}  # type: ignore[arg-type]

        assert uids(from_="billing@shop") == {a.uid}
        assert uids(to="team@") == {b.uid}
        assert uids(subject="lunch") == {b.uid, c.uid}
        assert uids(text="pizza") == {b.uid}
        assert uids(seen=True) == {b.uid}
        assert uids(seen=False) == {a.uid, c.uid}
        assert uids(flagged=True) == {c.uid}
        assert uids(subject="lunch", flagged=False) == {b.uid}

    def test_non_ascii_terms_find_encoded_headers_and_bodies(self, store: MailStore) -> None:
        """A non-ASCII term matches RFC 2047 subjects and UTF-8 bodies."""
        raw = (
            "From: a@example.org\r\nSubject: =?utf-8?q?Gr=C3=BCne_Wiese?=\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            "Käsekuchen für alle\r\n"
        ).encode()
        ref = store.append("INBOX", raw)
        store.append("INBOX", plain("plain ascii"))
        assert ref is not None
        assert [
            r.uid for r in store.search("INBOX", SearchCriteria(subject="grüne"), limit=5).refs
        ] == [ref.uid]
        assert [
            r.uid for r in store.search("INBOX", SearchCriteria(text="käsekuchen"), limit=5).refs
        ] == [ref.uid]

    def test_raw_utf8_headers_are_searchable_with_non_ascii_terms(self, store: MailStore) -> None:
        """An unencoded UTF-8 subject (common in practice) matches a non-ASCII term."""
        ref = store.append("INBOX", "From: a@example.org\r\nSubject: Grüße 7\r\n\r\nx\r\n".encode())
        store.append("INBOX", plain("Grusse ascii"))
        assert ref is not None
        found = store.search("INBOX", SearchCriteria(subject="Grüße"), limit=5).refs
        assert [r.uid for r in found] == [ref.uid]

    def test_dates_select_by_internal_date(self, store: MailStore) -> None:
        """since today finds fresh mail; before today finds none of it."""
        self._seed(store, 2)
        today = dt.datetime.now(dt.UTC).date()
        assert (
            store.search("INBOX", SearchCriteria(since=today - dt.timedelta(days=1)), limit=5).total
            == 2
        )
        assert (
            store.search(
                "INBOX", SearchCriteria(before=today - dt.timedelta(days=1)), limit=5
            ).total
            == 0
        )

    def test_has_attachment_uses_the_multipart_mixed_approximation(self, store: MailStore) -> None:
        """has_attachment=True finds multipart/mixed mail; False finds the rest."""
        att = store.append("INBOX", with_attachments())
        txt = store.append("INBOX", plain())
        assert att and txt
        assert [
            r.uid for r in store.search("INBOX", SearchCriteria(has_attachment=True), limit=5).refs
        ] == [att.uid]
        assert [
            r.uid for r in store.search("INBOX", SearchCriteria(has_attachment=False), limit=5).refs
        ] == [txt.uid]

    @pytest.mark.parametrize(
        "term", ["a\r\nX DELETE INBOX", "a\nb", "nul\x00", "{5}\r\nhello", "bell\x07"]
    )
    def test_control_characters_in_search_terms_are_refused(
        self, store: MailStore, term: str
    ) -> None:
        """Terms with CR, LF, NUL or other controls raise InvalidSearchError."""
        with pytest.raises(InvalidSearchError):
            store.search("INBOX", SearchCriteria(subject=term), limit=5)

    def test_quotes_and_wildcards_in_terms_are_plain_text(self, store: MailStore) -> None:
        """A term with quotes, backslashes, parentheses, braces, * and % is matched literally."""
        tricky = 'say "hi" \\ (ALL) {3} * %'
        ref = store.append("INBOX", plain(f"x {tricky} y"))
        store.append("INBOX", plain("nothing special"))
        assert ref is not None
        found = store.search("INBOX", SearchCriteria(subject=tricky), limit=5).refs
        assert [r.uid for r in found] == [ref.uid]

    def test_raw_expressions_support_or_not_and_groups(self, store: MailStore) -> None:
        """OR, NOT, parentheses, UID sets and flags evaluate like IMAP SEARCH."""
        a = store.append("INBOX", plain("alpha", sender="x@one.example"), flags=["\\Seen"])
        b = store.append("INBOX", plain("beta", sender="y@two.example"))
        c = store.append("INBOX", plain("gamma", sender="z@one.example"), flags=["\\Flagged"])
        assert a and b and c

        def uids(expr: str) -> set[int]:
            return {r.uid for r in store.search_raw("INBOX", expr, limit=50).refs}

        assert uids('FROM "one.example"') == {a.uid, c.uid}
        assert uids("OR SUBJECT alpha SUBJECT beta") == {a.uid, b.uid}
        assert uids("NOT (FROM one.example SEEN)") == {b.uid, c.uid}
        assert uids("unseen not flagged") == {b.uid}
        assert uids(f"UID {b.uid}:*") == {b.uid, c.uid}
        assert uids('OR (SUBJECT "gamma" FLAGGED) (SUBJECT "x" SUBJECT grüne)') == {c.uid}

    @pytest.mark.parametrize(
        "expression",
        [
            "FROM x\r\nA1 DELETE INBOX",
            "SUBJECT {5}",
            "FROM",
            "BOGUS x",
            "(FROM x",
            "FROM x)",
            '"unterminated',
            "1:5",
            "X-GM-RAW foo",
            "SINCE yesterday",
            "",
        ],
    )
    def test_invalid_raw_expressions_are_refused(self, store: MailStore, expression: str) -> None:
        """CR/LF, literals, unknown keys, missing arguments and bad structure are refused."""
        with pytest.raises(InvalidSearchError):
            store.search_raw("INBOX", expression, limit=5)

    def test_summaries_keep_order_and_skip_vanished_messages(self, store: MailStore) -> None:
        """summaries() returns headers, flags and size in the order asked, without missing refs."""
        a, b = self._seed(store, 2)
        store.set_flags([b], add=["\\Seen"])
        gone = MessageRef(
            account=ACCOUNT, folder="INBOX", uidvalidity=a.uidvalidity, uid=b.uid + 100
        )
        out = store.summaries([b, gone, a])
        assert [s.ref for s in out] == [b, a]
        assert out[0].header_bytes.startswith(b"From: Ann")
        assert b"body number" not in out[0].header_bytes
        assert "\\Seen" in out[0].flags and "\\Seen" not in out[1].flags
        assert out[0].size_bytes == len(plain("message 1", "body number 1\r\n"))

    # ------------------------------------------------------------------ attachments
    def test_attachments_are_listed_with_imap_part_ids(self, store: MailStore) -> None:
        """The PDF and the inline PNG are parts 2 and 3; the text body is not an attachment."""
        ref = store.append("INBOX", with_attachments())
        assert ref is not None
        atts = store.attachments(ref)
        assert [(a.part_id, a.filename, a.content_type, a.inline) for a in atts] == [
            ("2", "report.pdf", "application/pdf", False),
            ("3", "logo.png", "image/png", True),
        ]
        assert len(PDF) <= atts[0].size_bytes <= len(PDF) * 2

    def test_a_part_is_fetched_decoded(self, store: MailStore) -> None:
        """fetch_part undoes base64; unknown and malformed part ids are refused."""
        ref = store.append("INBOX", with_attachments())
        assert ref is not None
        part = store.fetch_part(ref, "2")
        assert part.content == PDF
        assert part.content_type == "application/pdf"
        assert part.filename == "report.pdf"
        with pytest.raises(AttachmentNotFound):
            store.fetch_part(ref, "9")
        for bad in ("0", "2.", "a", "1..2", "2 HEADER", "1]"):
            with pytest.raises(InputError):
                store.fetch_part(ref, bad)

    def test_a_plain_text_message_has_no_attachments(self, store: MailStore) -> None:
        """A single text/plain body lists no attachments."""
        ref = store.append("INBOX", plain())
        assert ref is not None
        assert list(store.attachments(ref)) == []

    # ------------------------------------------------------------------ flags
    def test_flags_and_keywords_are_added_and_removed(self, store: MailStore) -> None:
        """set_flags adds and removes system flags and keywords; labels lists keywords."""
        a, b = self._seed(store, 2)
        store.set_flags([a, b], add=["\\Seen", "\\Flagged", "$Important"])
        store.set_flags([b], remove=["\\Flagged", "$Important"])
        assert {"\\Seen", "\\Flagged", "$Important"} <= store.get_flags(a)
        assert "\\Recent" not in store.get_flags(a)
        assert "\\Seen" in store.get_flags(b) and "\\Flagged" not in store.get_flags(b)
        assert store.labels(a).keywords == ("$Important",)
        assert store.labels(b).keywords == ()
        assert store.labels(a).gmail_labels is None

    @pytest.mark.parametrize(
        "flag", ["\\Recent", "\\Bogus", "two words", "a)b", 'q"', "x\r\ny", ""]
    )
    def test_invalid_flags_are_refused_before_anything_changes(
        self, store: MailStore, flag: str
    ) -> None:
        """A flag that is neither a settable system flag nor an atom raises InputError."""
        [ref] = self._seed(store, 1)
        with pytest.raises(InputError):
            store.set_flags([ref], add=["\\Seen", flag])
        assert "\\Seen" not in store.get_flags(ref)

    # ------------------------------------------------------------------ move, expunge
    def test_move_relocates_each_message_exactly_once(self, store: MailStore) -> None:
        """Moved messages leave the source and appear once in the destination, bytes intact."""
        refs = self._seed(store, 3)
        moved = store.move(refs[:2], "Archive")
        assert set(moved) == set(refs[:2])
        assert self._all(store) == [refs[2]]
        in_archive = self._all(store, "Archive")
        assert len(in_archive) == 2
        for old, new in moved.items():
            if new is not None:
                assert new.folder == "Archive"
                assert store.fetch(new).data == plain(
                    f"message {refs.index(old)}", f"body number {refs.index(old)}\r\n"
                )

    def test_move_to_the_same_folder_or_a_missing_one_is_refused(self, store: MailStore) -> None:
        """Same folder: InputError; missing destination: FolderNotFound; nothing moves."""
        refs = self._seed(store, 1)
        with pytest.raises(InputError):
            store.move(refs, "INBOX")
        with pytest.raises(FolderNotFound):
            store.move(refs, "Nowhere")
        assert self._all(store) == refs

    def test_expunge_removes_exactly_the_given_messages(self, store: MailStore) -> None:
        """Other messages already marked \\Deleted survive an expunge of specific refs."""
        a, b, c = self._seed(store, 3)
        store.set_flags([b], add=["\\Deleted"])
        assert store.expunge([a]) == 1
        remaining = self._all(store)
        assert remaining == [c, b]
        with pytest.raises(MessageNotFound):
            store.fetch(a)

    # ------------------------------------------------------------------ lifecycle
    def test_close_is_idempotent_and_the_store_reopens(self, store: MailStore) -> None:
        """close() twice is fine; the next call works again."""
        self._seed(store, 1)
        store.close()
        store.close()
        assert len(self._all(store)) == 1

    def test_server_info_reports_capabilities(self, store: MailStore) -> None:
        """server_info lists capabilities (UIDPLUS at least)."""
        assert "UIDPLUS" in store.server_info().capabilities
