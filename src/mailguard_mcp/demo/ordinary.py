"""The ordinary mail of the demo mailbox: several languages and charsets, a newsletter,
attachments, a thread."""

from __future__ import annotations

from mailguard_mcp.demo.parts import (
    ME,
    PNG,
    contract_docx,
    invoice_pdf,
    message_bytes,
    new_message,
)


def ordinary() -> dict[str, bytes]:
    out: dict[str, bytes] = {}

    m = new_message(
        "Welcome to the mailguard demo",
        "mailguard <hello@mailguard.example>",
        "Mon, 16 Nov 2026 08:00:00 +0000",
        1,
    )
    m.set_content(
        "Hello!\n\nThis mailbox is a demo. Some messages are ordinary mail; others are attacks "
        "on an AI agent that reads mail: hidden text, invisible characters, look-alike senders, "
        "deceptive links and attachments, and text that tries to give the agent orders.\n\n"
        "Ask your assistant to search this inbox and read the messages, then look at the "
        "security_warnings mailguard attaches to each one.\n\nHave fun,\nthe mailguard team\n"
    )
    out["INBOX/01-welcome.eml"] = message_bytes(m)

    m = new_message(
        "Lunch on Thursday?",
        "Ann Example <ann@colleagues.example>",
        "Tue, 17 Nov 2026 11:02:00 +0100",
        2,
    )
    m.set_content("Hi,\n\nShall we try the new noodle place on Thursday at 12:30?\n\nAnn\n")
    out["INBOX/02-lunch.eml"] = message_bytes(m)

    m = new_message(
        "Invoice 2026-114",
        "Billing <billing@supplier.example>",
        "Wed, 18 Nov 2026 09:15:00 +0000",
        3,
    )
    m.set_content("Dear customer,\n\nplease find invoice 2026-114 attached.\n\nKind regards\n")
    m.add_attachment(
        invoice_pdf(hidden=False),
        maintype="application",
        subtype="pdf",
        filename="invoice-2026-114.pdf",
    )
    out["INBOX/03-invoice.eml"] = message_bytes(m)

    m = new_message(
        "This week in gardening",
        "Green Weekly <news@green-weekly.example>",
        "Wed, 18 Nov 2026 06:00:00 +0000",
        4,
        List_Id="Green Weekly <weekly.green-weekly.example>",
        List_Unsubscribe="<https://green-weekly.example/unsubscribe?u=42>",
        Precedence="bulk",
    )
    m.set_content("Tomatoes in November? Our tips for the last harvest. Read online.\n")
    m.add_alternative(
        "<html><body><h1>This week in gardening</h1><p>Tomatoes in November? Our tips for "
        "the last harvest.</p><p><img src='https://cdn.green-weekly.example/banner.png' "
        "alt='banner'></p><p><a href='https://green-weekly.example/issue/47'>Read online</a>"
        "</p><img src='https://t.green-weekly.example/open.gif' width='1' height='1'>"
        "</body></html>",
        subtype="html",
    )
    out["INBOX/04-newsletter.eml"] = message_bytes(m)

    m = new_message(
        "会議の議事録",
        "佐藤 花子 <hanako@tokyo-office.example>",
        "Thu, 19 Nov 2026 10:30:00 +0900",
        5,
    )
    m.set_content(
        "皆さん、\n\n本日の会議の議事録を共有します。来週の火曜日までにご確認ください。\n\n佐藤\n"
    )
    out["INBOX/05-japanese.eml"] = message_bytes(m)

    m = new_message(
        "Отчёт за ноябрь",
        "Иван Петров <ivan@moscow-branch.example>",
        "Thu, 19 Nov 2026 14:00:00 +0300",
        6,
    )
    m.set_content(
        "Коллеги,\n\nотчёт за ноябрь готов. Цифры выглядят хорошо.\n\nИван\n", charset="koi8-r"
    )
    out["INBOX/06-russian.eml"] = message_bytes(m)

    m = new_message(
        "موعد الاجتماع", "ليلى <layla@cairo-team.example>", "Fri, 20 Nov 2026 09:00:00 +0200", 7
    )
    m.set_content("مرحبا،\n\nالاجتماع القادم يوم الأحد الساعة العاشرة صباحا.\n\nليلى\n")
    out["INBOX/07-arabic.eml"] = message_bytes(m)

    m = new_message(
        "Re: Project plan",
        "Bob Builder <bob@colleagues.example>",
        "Fri, 20 Nov 2026 16:45:00 +0000",
        8,
        In_Reply_To="<demo-101@demo.example>",
        References="<demo-101@demo.example>",
    )
    m.set_content("Looks good to me. I moved the review to the 3rd.\n\n> Here is the plan.\n")
    out["INBOX/08-reply.eml"] = message_bytes(m)

    m = new_message(
        "Photo from the trip", "Carol <carol@friends.example>", "Sat, 21 Nov 2026 18:20:00 +0000", 9
    )
    m.set_content("Here is the picture I promised!\n")
    m.add_attachment(PNG, maintype="image", subtype="png", filename="lake.png")
    out["INBOX/09-photo.eml"] = message_bytes(m)

    m = new_message(
        "Team offsite: agenda",
        "Dana <dana@colleagues.example>",
        "Sun, 22 Nov 2026 12:00:00 +0000",
        10,
    )
    m.set_content("Agenda:\n1. Roadmap\n2. Hiring\n3. Dinner at 19:00\n")
    m.add_attachment(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:Offsite\r\n"
        "DTSTART:20261203T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        subtype="calendar",
        filename="offsite.ics",
    )
    out["INBOX/10-agenda.eml"] = message_bytes(m)

    m = new_message(
        "Service agreement for signature",
        "Legal <legal@colleagues.example>",
        "Sun, 22 Nov 2026 13:00:00 +0000",
        11,
    )
    m.set_content("Hi,\n\nthe agreement is attached. Can you check clause 2?\n\nLegal\n")
    m.add_attachment(
        contract_docx(hidden=False),
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
        filename="service-agreement.docx",
    )
    out["INBOX/37-contract.eml"] = message_bytes(m)

    m = new_message("Project plan", ME, "Fri, 20 Nov 2026 15:00:00 +0000", 101)
    m.replace_header("To", "Bob Builder <bob@colleagues.example>")
    m.set_content("Here is the plan. Review on the 2nd?\n")
    out["Sent/01-project-plan.eml"] = message_bytes(m)

    m = new_message(
        "Receipt for your order",
        "Shop <orders@shop.example>",
        "Mon, 02 Nov 2026 10:00:00 +0000",
        102,
    )
    m.set_content("Thank you for your order #5521.\n")
    out["Archive/01-receipt.eml"] = message_bytes(m)
    return out
