"""The provider presets of ``mailguard-mcp init``: servers, ports and TLS modes of the common
providers, and what each one needs (an app password, OAuth2, a self-signed Bridge)."""

from __future__ import annotations

import attrs


@attrs.frozen
class Server:
    host: str
    port: int
    tls: str  # "implicit" | "starttls"


@attrs.frozen
class Provider:
    key: str
    label: str
    imap: Server | None
    smtp: Server | None
    note: str = ""
    #: the [accounts.oauth] provider when the provider requires OAuth2
    oauth: str | None = None


PROVIDERS: dict[str, Provider] = {
    p.key: p
    for p in (
        Provider(
            "gmail",
            "Gmail",
            Server("imap.gmail.com", 993, "implicit"),
            Server("smtp.gmail.com", 465, "implicit"),
            "Gmail needs an app password (2-step verification on) or OAuth2 (docs/oauth.md).",
        ),
        Provider(
            "fastmail",
            "Fastmail",
            Server("imap.fastmail.com", 993, "implicit"),
            Server("smtp.fastmail.com", 465, "implicit"),
            "Fastmail needs an app password (Settings, Privacy & Security, App passwords).",
        ),
        Provider(
            "outlook",
            "Outlook.com / Microsoft 365",
            None,
            None,
            "Microsoft requires OAuth2: register an app (docs/oauth.md), then run "
            "`mailguard-mcp login NAME` to sign in.",
            oauth="microsoft",
        ),
        Provider(
            "icloud",
            "iCloud Mail",
            Server("imap.mail.me.com", 993, "implicit"),
            Server("smtp.mail.me.com", 587, "starttls"),
            "iCloud needs an app-specific password (account.apple.com, Sign-In and Security).",
        ),
        Provider(
            "yahoo",
            "Yahoo Mail",
            Server("imap.mail.yahoo.com", 993, "implicit"),
            Server("smtp.mail.yahoo.com", 465, "implicit"),
            "Yahoo needs an app password (Account security, Generate app password).",
        ),
        Provider(
            "proton-bridge",
            "Proton Mail Bridge",
            Server("127.0.0.1", 1143, "starttls"),
            Server("127.0.0.1", 1025, "starttls"),
            "Use the Bridge's own password (Bridge app, your account, Mailbox details), not "
            "your Proton password. The Bridge's certificate is self-signed: compare its sha256.",
        ),
        Provider("generic", "another IMAP server", None, None),
    )
}


__all__ = ["PROVIDERS", "Provider", "Server"]
