"""Secure messages: Joan (Jane's contact) and the firm write in Jane's thread,
with attachments; each side is emailed that a message waits, never what it says;
opening a thread marks the other side's messages read; another client's thread,
of this firm or another, is a 404."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient
from django.urls import reverse

from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Organization
from clients.models import Client
from documents.models import Document, DocumentCategory, DocumentSource
from portal.models import (
    Activity,
    Message,
    MessageAttachment,
    PortalActivity,
    PortalGrant,
)
from portal.selectors_messages import INBOX_PAGE, THREAD_PAGE
from portal.services.messages import BODY_MAX, message_send
from tests.documents.conftest import stored_files
from tests.documents.scans import text_layer_pdf
from tests.factories import make_client
from tests.portal.builders import make_contact, make_grant

SECRET = "My SSN is 123-45-6789 and the password is hunter2"
INBOX = "/o/alpha/portal/messages/"
# A Windows program's first bytes (DOS stub and PE signature), named x.pdf.
WINDOWS_PROGRAM = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 50
    + b"PE\x00\x00"
    + b"\x00" * 200
)
LEDGER = b"date,amount\n2026-01-02,10.00\n"


def thread_url(client: Client) -> str:
    return f"/p/{client.organization.slug}/messages/{client.uuid}/"


def staff_thread_url(client: Client) -> str:
    return f"/o/{client.organization.slug}/portal/messages/{client.uuid}/"


def staff(user) -> HttpClient:
    """A browser of its own for a member (the portal's tests share `client`)."""
    web = HttpClient()
    web.force_login(user)
    return web


def send(client: Client, body: str, *, contact=None, user=None, files=()) -> Message:
    with tenant_context(client.organization):
        return message_send(
            client=client,
            body=body,
            sender_contact=contact,
            sender_user=user,
            files=files,
        )


def thread_of(client: Client) -> list[Message]:
    with tenant_context(client.organization):
        return list(Message.objects.filter(client=client).order_by("created_at", "id"))


def documents_of(client: Client) -> list[Document]:
    with tenant_context(client.organization):
        return list(Document.objects.filter(client=client).order_by("pk"))


def activity(organization: Organization, action: Activity) -> list[PortalActivity]:
    with tenant_context(organization):
        return list(PortalActivity.objects.filter(action=action).order_by("pk"))


def flashes(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def assert_says_only_that_a_message_waits(email) -> None:
    html = email.alternatives[0][0]
    for text in (email.subject, email.body, html):
        assert "123-45-6789" not in text
        assert "hunter2" not in text
    assert "You have a new secure message from" in email.body


# Joan writes ------------------------------------------------------------------------


def test_joan_sends_a_message_with_an_attachment_and_the_firm_is_told(
    cast, pcast, joan_portal, media_root, mailoutbox, django_capture_on_commit_callbacks
):
    w2 = text_layer_pdf(["Form W-2 Wage and Tax Statement 2026"])
    with django_capture_on_commit_callbacks(execute=True):
        response = joan_portal.post(
            thread_url(pcast.jane),
            {
                "body": SECRET,
                "upload_token": "form-1",
                "files": [SimpleUploadedFile("w2.pdf", w2)],
            },
            REMOTE_ADDR="203.0.113.9",
        )

    assert response.status_code == 302
    assert response.url == thread_url(pcast.jane)
    assert flashes(response) == ["Message sent."]
    [message] = thread_of(pcast.jane)
    assert message.from_client is True
    assert message.sender_contact_id == pcast.joan.pk
    assert message.sender_user_id is None
    assert message.body == SECRET
    assert message.read_at is None
    # The attachment is a document of Jane's, from the portal, shared with her.
    [document] = documents_of(pcast.jane)
    with tenant_context(cast.alpha):
        assert list(
            MessageAttachment.objects.filter(message=message).values_list(
                "document_id", flat=True
            )
        ) == [document.pk]
        [event] = AuditEvent.objects.filter(action=AuditAction.PORTAL_MESSAGE_SENT)
    assert document.source == DocumentSource.PORTAL
    assert document.uploaded_by_contact_id == pcast.joan.pk
    assert document.category == DocumentCategory.CORRESPONDENCE
    assert document.visible_to_client is True
    assert document.original_filename == "w2.pdf"
    assert (media_root / document.file.name).read_bytes() == w2
    # Recorded twice (timeline and audit log), with where from, never the text.
    [sent] = activity(cast.alpha, Activity.MESSAGE_SENT)
    assert sent.contact_id == pcast.joan.pk
    assert sent.client_id == pcast.jane.pk
    assert sent.ip_address == "203.0.113.9"
    assert sent.summary == "Sent a message with 1 attachment"
    assert sent.detail["message"] == str(message.uuid)
    assert sent.detail["documents"][0]["sha256"] == document.checksum
    assert event.actor_email == "joan@client.test"
    assert "123-45-6789" not in str(sent.detail) + str(event.detail) + event.target
    # Jane's partner (Alice) and staff (Sam), one email each, without the text.
    assert sorted(email.to[0] for email in mailoutbox) == [
        "alice@alpha.test",
        "sam@alpha.test",
    ]
    link = settings.SITE_URL.rstrip("/") + staff_thread_url(pcast.jane)
    for email in mailoutbox:
        assert email.subject == "New secure message from Jane Doe"
        assert_says_only_that_a_message_waits(email)
        assert "w2.pdf" not in email.body
        assert link in email.body


def test_a_message_to_an_unassigned_client_goes_to_the_owners_and_admins(
    pcast, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send(pcast.acme, SECRET, contact=pcast.carl)

    assert sorted(email.to[0] for email in mailoutbox) == [
        "adam@alpha.test",
        "alice@alpha.test",
    ]


def test_a_refused_attachment_sends_nothing_and_keeps_the_text(
    cast, pcast, joan_portal, media_root
):
    response = joan_portal.post(
        thread_url(pcast.jane),
        {
            "body": "Here is my W-2 and the ledger",
            "upload_token": "form-1",
            "files": [
                SimpleUploadedFile("ledger.csv", LEDGER),
                SimpleUploadedFile("x.pdf", WINDOWS_PROGRAM),
            ],
        },
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(
        r"<textarea[^>]*>\s*Here is my W-2 and the ledger</textarea>", html
    ), "the text is kept in the form"
    assert "Your message was not sent." in html
    assert (
        "x.pdf was not accepted: its content is a Windows program"
        " (application/x-dosexec), not what its .pdf name says." in html
    )
    # Nothing at all: neither the text nor the file that passed.
    assert thread_of(pcast.jane) == []
    assert documents_of(pcast.jane) == []
    assert stored_files(media_root) == []
    [refused] = activity(cast.alpha, Activity.UPLOAD_REFUSED)
    assert refused.summary.startswith("Attachment to a message refused: x.pdf")

    # Sent again without the program, with the same form: it goes.
    again = joan_portal.post(
        thread_url(pcast.jane),
        {
            "body": "Here is my W-2 and the ledger",
            "upload_token": "form-1",
            "files": [SimpleUploadedFile("ledger.csv", LEDGER)],
        },
    )
    assert again.status_code == 302
    assert len(thread_of(pcast.jane)) == 1
    assert [d.original_filename for d in documents_of(pcast.jane)] == ["ledger.csv"]


def test_a_double_submit_of_the_same_form_sends_the_message_once(
    pcast, joan_portal, media_root
):
    def submit():
        return joan_portal.post(
            thread_url(pcast.jane),
            {
                "body": "Only once",
                "upload_token": "form-7",
                "files": [SimpleUploadedFile("ledger.csv", LEDGER)],
            },
        )

    first, second = submit(), submit()

    assert first.status_code == second.status_code == 302
    assert flashes(second)[-1] == "This message had already been sent."
    assert [m.body for m in thread_of(pcast.jane)] == ["Only once"]
    assert len(documents_of(pcast.jane)) == 1
    assert len(stored_files(media_root)) == 1


def test_an_empty_message_is_refused_on_the_page(pcast, joan_portal):
    response = joan_portal.post(thread_url(pcast.jane), {"body": "   "})

    assert response.status_code == 200
    assert "Write a message or attach a file." in response.content.decode()
    assert thread_of(pcast.jane) == []


def test_a_file_alone_is_a_message(pcast, joan_portal):
    response = joan_portal.post(
        thread_url(pcast.jane),
        {"body": "", "files": [SimpleUploadedFile("ledger.csv", LEDGER)]},
    )

    assert response.status_code == 302
    [message] = thread_of(pcast.jane)
    assert message.body == ""
    page = joan_portal.get(thread_url(pcast.jane)).content.decode()
    assert "ledger.csv" in page


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"body": "Hi"}, "exactly one sender"),
        ({"body": "Hi", "both": True}, "exactly one sender"),
        ({"body": "  ", "contact": True}, "Write a message or attach a file."),
        ({"body": "x" * (BODY_MAX + 1), "contact": True}, "up to 10,000 characters"),
    ],
    ids=["no-sender", "two-senders", "empty", "too-long"],
)
def test_the_service_refuses_a_message_that_is_not_one(cast, pcast, kwargs, error):
    contact = pcast.joan if kwargs.get("contact") or kwargs.get("both") else None
    user = cast.alice if kwargs.get("both") else None

    with pytest.raises(ValidationError) as refused:
        send(pcast.jane, kwargs["body"], contact=contact, user=user)

    assert error in " ".join(refused.value.messages)
    assert thread_of(pcast.jane) == []


def test_another_firms_contact_cannot_write_in_a_thread(pcast):
    with pytest.raises(ValidationError):
        send(pcast.jane, "Hi", contact=pcast.bruno)


# The firm answers -------------------------------------------------------------------


def test_a_reply_tells_janes_contacts_who_may_message_that_one_waits(
    cast, pcast, media_root, mailoutbox, django_capture_on_commit_callbacks
):
    silent = make_contact(pcast.jane, "Jim", "Doe", "jim@client.test")
    make_grant(silent, pcast.jane, can_message=False)
    web = staff(cast.sam)

    with django_capture_on_commit_callbacks(execute=True):
        response = web.post(
            staff_thread_url(pcast.jane),
            {
                "body": SECRET,
                "upload_token": "reply-1",
                "files": [SimpleUploadedFile("organizer.csv", LEDGER)],
            },
        )

    assert response.status_code == 302
    assert response.url == staff_thread_url(pcast.jane)
    [message] = thread_of(pcast.jane)
    assert message.from_client is False
    assert message.sender_user_id == cast.sam.pk
    [document] = documents_of(pcast.jane)
    assert document.source == DocumentSource.STAFF
    assert document.uploaded_by_id == cast.sam.pk
    assert document.visible_to_client is True
    # Only Joan: not Jim (no messages), not Carl (Acme's), no staff member.
    [email] = mailoutbox
    assert email.to == ["joan@client.test"]
    assert email.subject == "New secure message from Alpha Accounting"
    assert_says_only_that_a_message_waits(email)
    assert "organizer.csv" not in email.body
    assert settings.SITE_URL.rstrip("/") + thread_url(pcast.jane) in email.body
    # A member's message is not portal activity.
    assert activity(cast.alpha, Activity.MESSAGE_SENT) == []


def test_joan_sees_the_reply_as_new_and_opening_the_thread_marks_it_read(
    cast, pcast, joan_portal
):
    question = send(pcast.jane, "Which year?", contact=pcast.joan)
    reply = send(
        pcast.jane,
        "2026, please.",
        user=cast.alice,
        files=[ContentFile(LEDGER, name="organizer.csv")],
    )

    response = joan_portal.get(thread_url(pcast.jane))

    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Which year?") < html.index("2026, please.")
    assert html.count('class="badge badge-new"') == 1  # the reply, shown once as new
    assert "Alice Owner · Alpha Accounting" in html
    [attachment] = re.findall(r'<a href="([^"]+)" data-testid="attachment">', html)
    [document] = documents_of(pcast.jane)
    assert attachment == reverse(
        "portal:document_detail",
        kwargs={"org_slug": "alpha", "document_uuid": document.uuid},
    )
    # The firm's reply is read; Joan's question still waits for the firm.
    reply_read, question_read = _read_at(pcast.jane, reply, question)
    assert reply_read is not None
    assert question_read is None

    assert staff(cast.alice).get(staff_thread_url(pcast.jane)).status_code == 200
    assert _read_at(pcast.jane, question)[0] is not None


def _read_at(client: Client, *messages: Message) -> list:
    read = {m.pk: m.read_at for m in thread_of(client)}
    return [read[m.pk] for m in messages]


def test_an_attachment_is_not_a_link_for_a_contact_who_cannot_see_documents(
    cast, pcast, joan_portal
):
    send(
        pcast.jane,
        "See attached",
        user=cast.alice,
        files=[ContentFile(LEDGER, name="organizer.csv")],
    )
    with tenant_context(cast.alpha):
        PortalGrant.objects.filter(pk=pcast.joan_grant.pk).update(
            can_view_documents=False
        )

    html = joan_portal.get(thread_url(pcast.jane)).content.decode()

    assert '<span data-testid="attachment">organizer.csv</span>' in html


# Who may open a thread --------------------------------------------------------------


@pytest.mark.parametrize("other", ["acme", "bruno_client"])
def test_joan_cannot_open_or_write_in_another_clients_thread(pcast, joan_portal, other):
    client = getattr(pcast, other)
    contact = pcast.carl if other == "acme" else pcast.bruno
    send(client, "Private", contact=contact)
    url = f"/p/alpha/messages/{client.uuid}/"

    assert joan_portal.get(url).status_code == 404
    assert joan_portal.post(url, {"body": "Hello?"}).status_code == 404
    assert [m.body for m in thread_of(client)] == ["Private"]
    assert [m.read_at for m in thread_of(client)] == [None]


def test_joan_is_not_signed_in_to_another_firms_portal(pcast, joan_portal):
    response = joan_portal.get(thread_url(pcast.bruno_client))

    assert response.status_code == 302
    assert response.url == "/p/beta/"


def test_a_contact_whose_access_does_not_allow_messages_gets_404(
    cast, pcast, joan_portal
):
    with tenant_context(cast.alpha):
        PortalGrant.objects.filter(pk=pcast.joan_grant.pk).update(can_message=False)

    assert joan_portal.get(thread_url(pcast.jane)).status_code == 404
    assert joan_portal.post(thread_url(pcast.jane), {"body": "Hi"}).status_code == 404
    assert thread_of(pcast.jane) == []
    listing = joan_portal.get("/p/alpha/messages/")
    assert listing.status_code == 200
    assert "Messages are not turned on for your account." in listing.content.decode()


def test_with_one_client_the_messages_page_is_its_thread(pcast, joan_portal):
    response = joan_portal.get("/p/alpha/messages/")

    assert response.status_code == 302
    assert response.url == thread_url(pcast.jane)


def test_with_several_clients_each_thread_is_listed_unread_first(
    cast, pcast, joan_portal
):
    make_grant(pcast.joan, pcast.acme)
    make_grant(pcast.joan, make_client(cast.alpha, "Doe Family Trust"))
    send(pcast.jane, "Hello", user=cast.alice)  # read below
    send(pcast.acme, "One", user=cast.alice)
    send(pcast.acme, "Two", user=cast.alice)
    joan_portal.get(thread_url(pcast.jane))
    send(pcast.jane, "Me again", contact=pcast.joan)  # Jane's newest: Joan's own

    response = joan_portal.get("/p/alpha/messages/")

    assert response.status_code == 200
    rows = [
        (t["client"].display_name, t["unread"]) for t in response.context["threads"]
    ]
    assert rows == [("Acme Ltd", 2), ("Jane Doe", 0), ("Doe Family Trust", 0)]
    assert '<span class="badge badge-new" data-testid="unread">2 new</span>' in (
        response.content.decode()
    )


def test_the_thread_shows_the_newest_page_and_leads_to_older_messages(
    cast, pcast, joan_portal
):
    for n in range(THREAD_PAGE + 2):
        send(pcast.jane, f"Message number {n:02d}.", user=cast.alice)

    html = joan_portal.get(thread_url(pcast.jane)).content.decode()

    assert "Message number 00." not in html
    assert "Message number 02." in html
    assert html.index("Message number 02.") < html.index(
        f"Message number {THREAD_PAGE + 1:02d}."
    )
    [older] = re.findall(r'<a href="([^"]+)" data-testid="older-messages">', html)
    earlier = joan_portal.get(older.replace("&amp;", "&")).content.decode()
    assert "Message number 00." in earlier
    assert "Message number 02." not in earlier
    assert "Newer messages" in earlier


# The firm's pages -------------------------------------------------------------------


def test_the_inbox_lists_threads_unread_first_then_newest_with_counts(cast, pcast):
    quiet = make_client(cast.alpha, "Quiet Co")
    send(pcast.acme, "Old question", contact=pcast.carl)
    send(pcast.jane, "First", contact=pcast.joan)
    send(pcast.jane, "Second", contact=pcast.joan)
    send(quiet, "Newest, from us", user=cast.alice)
    send(pcast.bruno_client, "Another firm's", contact=pcast.bruno)

    response = staff(cast.mia).get(INBOX)

    assert response.status_code == 200
    rows = [
        (r["client"].display_name, r["unread"]) for r in response.context["page"].rows
    ]
    assert rows == [("Jane Doe", 2), ("Acme Ltd", 1), ("Quiet Co", 0)]
    html = response.content.decode()
    assert f'href="{staff_thread_url(pcast.jane)}"' in html
    assert '<span class="badge badge-new" data-testid="unread">2 unread</span>' in html
    assert 'aria-current="page">Messages</a>' in html  # the side navigation's entry


def test_the_inbox_makes_the_same_number_of_queries_for_2_or_12_threads(
    cast, django_assert_num_queries
):
    web = staff(cast.alice)
    web.get(INBOX)  # settles the session's first-visit writes
    made = 0
    for count in (2, 12):
        for n in range(made, count):
            client = make_client(cast.alpha, f"Client {n:02d}")
            contact = make_contact(client, "Pat", f"Client{n}", f"pat{n}@example.test")
            send(client, "Hello", contact=contact)
            send(client, "Thanks", user=cast.alice)
        made = count
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms (membership and switcher), 5 a page of threads (messages grouped
        # by client), 6 the page's clients, 7 reset the RLS context.
        with django_assert_num_queries(7):
            response = web.get(INBOX)
        assert len(response.context["page"].rows) == count


def test_the_thread_makes_the_same_number_of_queries_for_2_or_12_messages(
    cast, pcast, django_assert_num_queries
):
    web = staff(cast.alice)
    web.get(INBOX)
    for count in (2, 12):
        while len(thread_of(pcast.jane)) < count:
            send(
                pcast.jane,
                "With a file",
                contact=pcast.joan,
                files=[ContentFile(LEDGER, name="ledger.csv")],
            )
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms, 5 the client, 6 the page of messages with their senders, 7 their
        # attachments and documents, 8 mark the client's messages read, 9 the
        # firm's document settings (the upload limit), 10 reset the RLS context.
        with django_assert_num_queries(10):
            response = web.get(staff_thread_url(pcast.jane))
        assert len(response.context["page"].rows) == count


def test_the_inbox_pages_through_threads_in_the_same_order(cast, pcast):
    send(pcast.jane, "Unread", contact=pcast.joan)
    for n in range(INBOX_PAGE):
        send(make_client(cast.alpha, f"Client {n:02d}"), "From us", user=cast.alice)
    send(pcast.acme, "Unread too", contact=pcast.carl)
    web = staff(cast.alice)

    first = web.get(INBOX).context["page"]
    second = web.get(INBOX, {"cursor": first.next_cursor}).context["page"]

    names = [r["client"].display_name for r in first.rows + second.rows]
    assert names[:3] == ["Acme Ltd", "Jane Doe", f"Client {INBOX_PAGE - 1:02d}"]
    assert names[-1] == "Client 00"
    assert len(first.rows) == INBOX_PAGE
    assert len(names) == len(set(names)) == INBOX_PAGE + 2
    assert not second.has_next


def test_joans_thread_makes_the_same_number_of_queries_for_2_or_12_messages(
    cast, pcast, joan_portal, django_assert_num_queries
):
    joan_portal.get(thread_url(pcast.jane))  # settles the session's writes
    for count in (2, 12):
        while len(thread_of(pcast.jane)) < count:
            send(
                pcast.jane,
                "With a file",
                user=cast.alice,
                files=[ContentFile(LEDGER, name="ledger.csv")],
            )
        # 1 session, 2 the firm with its RLS context (one round trip), 3 Joan's
        # account, 4 her grants with their clients and contact, 5 the page of
        # messages with their senders, 6 their attachments and documents, 7 mark
        # the firm's messages read, 8 the firm's document settings (the upload
        # limit), 9 the RLS context reset.
        with django_assert_num_queries(9):
            response = joan_portal.get(thread_url(pcast.jane))
        assert len(response.context["page"].rows) == count


def test_members_who_see_only_their_clients_see_only_their_threads(cast, pcast):
    with tenant_context(cast.alpha):
        Organization.objects.filter(pk=cast.alpha.pk).update(assigned_clients_only=True)
    send(pcast.jane, "Sam's client", contact=pcast.joan)  # Sam is on Jane's staff
    send(pcast.acme, "Not Sam's", contact=pcast.carl)
    web = staff(cast.sam)

    rows = web.get(INBOX).context["page"].rows

    assert [r["client"].display_name for r in rows] == ["Jane Doe"]
    assert web.get(staff_thread_url(pcast.acme)).status_code == 404
    assert web.post(staff_thread_url(pcast.acme), {"body": "x"}).status_code == 404
    assert [m.read_at for m in thread_of(pcast.acme)] == [None]


def test_another_firms_member_finds_no_thread(cast, pcast):
    send(pcast.jane, "Hi", contact=pcast.joan)
    web = staff(cast.oscar)

    assert web.get(staff_thread_url(pcast.jane)).status_code == 404
    crossed = f"/o/beta/portal/messages/{pcast.jane.uuid}/"
    assert web.get(crossed).status_code == 404
    assert web.post(crossed, {"body": "x"}).status_code == 404
    assert len(thread_of(pcast.jane)) == 1


def test_a_read_only_member_reads_the_thread_but_cannot_reply(cast, pcast):
    send(pcast.jane, "Hello from Joan", contact=pcast.joan)
    web = staff(cast.rita)

    response = web.get(staff_thread_url(pcast.jane))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Hello from Joan" in html
    assert 'data-testid="message-form"' not in html
    assert 'data-testid="read-only"' in html
    assert web.post(staff_thread_url(pcast.jane), {"body": "x"}).status_code == 403
    assert [m.body for m in thread_of(pcast.jane)] == ["Hello from Joan"]


def test_the_client_page_has_a_messages_tab_that_reads_the_thread(cast, pcast):
    send(pcast.jane, "Can you call me?", contact=pcast.joan)

    response = staff(cast.sam).get(f"/o/alpha/clients/{pcast.jane.uuid}/?tab=messages")

    assert response.status_code == 200
    html = response.content.decode()
    tab = html.split('data-testid="tab-messages"')[1]
    assert "Can you call me?" in tab
    assert "Joan Doe" in tab
    assert f'action="{staff_thread_url(pcast.jane)}"' in tab
    assert [m.read_at is not None for m in thread_of(pcast.jane)] == [True]


def test_the_timeline_says_who_wrote_but_not_what(cast, pcast):
    send(
        pcast.jane,
        SECRET,
        contact=pcast.joan,
        files=[ContentFile(LEDGER, name="ledger.csv")],
    )
    send(pcast.jane, "Noted", user=cast.alice)

    html = (
        staff(cast.sam)
        .get(f"/o/alpha/clients/{pcast.jane.uuid}/?tab=timeline")
        .content.decode()
    )

    assert "Message from Joan Doe" in html
    assert "Message to the client from Alice Owner" in html
    assert "1 attachment" in html
    assert "123-45-6789" not in html
    assert "Noted" not in html
