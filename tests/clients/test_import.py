"""CSV import of clients: upload, preview with row errors, all-or-nothing import."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import TestCase
from django.urls import reverse

from advisoros.audit.models import AuditAction, AuditEvent, LogEntry
from advisoros.tenancy.db import platform_bypass, tenant_context
from clients.models import (
    Client,
    ClientContact,
    ClientImport,
    Contact,
    EntityType,
    ImportStatus,
    Tag,
)
from clients.services.imports import (
    MAX_ROWS,
    client_import_create,
    client_import_run,
)
from clients.services.search import clients_matching

HEADER = [
    "display_name",
    "client_code",
    "entity_type",
    "tax_id",
    "partner_email",
    "staff_email",
    "tags",
    "contact_first_name",
    "contact_last_name",
    "contact_email",
    "contact_role",
]


def _csv(rows: list[list[str]], header: list[str] = HEADER) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _upload(client, slug: str, data: bytes, name: str = "clients.csv"):
    return client.post(
        reverse("clients:import_upload", kwargs={"org_slug": slug}),
        {"file": SimpleUploadedFile(name, data, content_type="text/csv")},
    )


def _confirm(client, client_import: ClientImport, *, run_job: bool = True):
    """Confirm; the background job (django-q2 sync in tests) runs at commit."""
    with TestCase.captureOnCommitCallbacks(execute=run_job):
        return client.post(
            reverse(
                "clients:import_confirm",
                kwargs={"org_slug": "alpha", "import_uuid": client_import.uuid},
            )
        )


def _preview_url(client_import: ClientImport, slug: str = "alpha") -> str:
    return reverse(
        "clients:import_preview",
        kwargs={"org_slug": slug, "import_uuid": client_import.uuid},
    )


def _imports(org) -> list[ClientImport]:
    with tenant_context(org):
        return list(ClientImport.objects.filter(organization=org))


def _clients(org) -> list[Client]:
    with tenant_context(org):
        return list(Client.objects.filter(organization=org))


GOOD = [
    [
        "Bright Smile Dental",
        "bright",
        "S corporation",
        "12-3456789",
        "alice@alpha.test",
        "SAM@alpha.test",
        "VIP; New client",
        "Dana",
        "Lee",
        "dana@brightsmile.example",
        "Officer",
    ],
    [
        "Jordan Rivers",
        "",
        "individual",
        "123-45-6789",
        "",
        "",
        "vip",
        "Jordan",
        "Rivers",
        "jordan@rivers.example",
        "",
    ],
]


def test_a_good_file_is_previewed_then_imported_whole(cast, login_as):
    client = login_as(cast.alice)
    with tenant_context(cast.alpha):
        Tag.objects.create(organization=cast.alpha, name="VIP")

    response = _upload(client, "alpha", _csv(GOOD).encode())

    [client_import] = _imports(cast.alpha)
    assert response.status_code == 302
    assert response.url == _preview_url(client_import)
    assert client_import.status == ImportStatus.PREVIEWED
    assert client_import.row_count == 2
    assert client_import.error_count == 0
    assert _clients(cast.alpha) == []  # nothing written before the confirm

    preview = client.get(response.url)
    assert b"Bright Smile Dental" in preview.content
    assert b"Import 2 clients" in preview.content
    assert b"123-45-6789" not in preview.content  # tax ids are masked

    response = _confirm(client, client_import)

    assert response.status_code == 302
    assert response.url == _preview_url(client_import)  # where the progress shows
    assert b'data-testid="import-done"' in client.get(response.url).content
    with tenant_context(cast.alpha):
        bright = Client.objects.get(client_code="BRIGHT")
        assert bright.entity_type == EntityType.S_CORP
        assert bright.tax_id == "12-3456789"
        assert bright.partner == cast.alice
        assert bright.staff == cast.sam
        assert sorted(t.name for t in bright.tags.all()) == ["New client", "VIP"]
        assert Tag.objects.filter(organization=cast.alpha).count() == 2
        link = ClientContact.objects.select_related("contact").get(client=bright)
        assert link.contact.email == "dana@brightsmile.example"
        assert link.role == "officer"
        jordan = Client.objects.get(display_name="Jordan Rivers")
        assert jordan.client_code == "RIVERS-J"  # suggested, as the form does
        found = clients_matching(
            Client.objects.filter(organization=cast.alpha), "dana@brightsmile.example"
        )
        assert list(found) == [bright]
        client_import = ClientImport.objects.get()
    assert client_import.status == ImportStatus.IMPORTED
    assert client_import.imported_clients == 2
    assert client_import.imported_contacts == 2
    assert client_import.content == ""  # the whole tax ids are not kept
    with platform_bypass():
        event = AuditEvent.objects.get(action=AuditAction.CLIENTS_IMPORTED)
    assert event.organization == cast.alpha
    assert event.actor == cast.alice
    assert event.detail["clients"] == 2


def test_a_file_with_one_bad_row_imports_nothing_and_shows_its_errors(cast, login_as):
    client = login_as(cast.alice)
    bad = ["Bad Row LLC", "", "LLC", "123-45-6789", "nobody@alpha.test"]
    bad += ["", "", "", "", "", ""]
    _upload(client, "alpha", _csv([*GOOD, bad]).encode())
    [client_import] = _imports(cast.alpha)

    preview = client.get(_preview_url(client_import))

    assert client_import.error_count == 1
    html = preview.content.decode()
    assert 'data-row="4"' in html
    assert "files under an EIN" in html
    assert "nobody@alpha.test is not an active member of the firm." in html
    assert "Fix the file and upload it again" in html
    assert "disabled>Import 3 clients" in html

    response = _confirm(client, client_import)

    assert _clients(cast.alpha) == []
    assert response.url == _preview_url(client_import)
    page = client.get(response.url).content.decode()
    assert "Nothing was imported: some rows have errors." in page


def test_the_import_checks_again_and_imports_nothing_when_a_row_became_wrong(
    cast, login_as, make_client
):
    client = login_as(cast.alice)
    _upload(client, "alpha", _csv(GOOD).encode())
    [client_import] = _imports(cast.alpha)
    make_client(cast.alpha, "Someone Else", client_code="BRIGHT")

    _confirm(client, client_import)

    assert [c.display_name for c in _clients(cast.alpha)] == ["Someone Else"]
    [client_import] = _imports(cast.alpha)
    assert client_import.status == ImportStatus.PREVIEWED
    assert client_import.errors[0]["message"] == "Another client already has this code."


def test_a_double_confirm_imports_once(cast, login_as):
    client = login_as(cast.alice)
    _upload(client, "alpha", _csv(GOOD).encode())
    [client_import] = _imports(cast.alpha)

    _confirm(client, client_import)
    second = _confirm(client, client_import)

    assert len(_clients(cast.alpha)) == 2
    assert second.url == _preview_url(client_import)
    assert "This file was already imported." in client.get(second.url).content.decode()
    with platform_bypass():
        assert (
            AuditEvent.objects.filter(action=AuditAction.CLIENTS_IMPORTED).count() == 1
        )


def test_another_firms_import_is_not_found(cast, login_as):
    with tenant_context(cast.beta):
        theirs = client_import_create(
            organization=cast.beta, user=cast.oscar, filename="b.csv", text=_csv(GOOD)
        )
    client = login_as(cast.alice)

    assert client.get(_preview_url(theirs)).status_code == 404
    assert _confirm(client, theirs).status_code == 404
    assert _clients(cast.beta) == []


def test_staff_see_only_their_own_imports(cast, login_as):
    with tenant_context(cast.alpha):
        alices = client_import_create(
            organization=cast.alpha, user=cast.alice, filename="a.csv", text=_csv(GOOD)
        )
    client = login_as(cast.sam)

    assert client.get(_preview_url(alices)).status_code == 404
    assert _confirm(client, alices).status_code == 404


def test_a_read_only_member_cannot_import(cast, login_as):
    client = login_as(cast.rita)
    url = reverse("clients:import_upload", kwargs={"org_slug": "alpha"})

    assert client.get(url).status_code == 403
    assert _upload(client, "alpha", _csv(GOOD).encode()).status_code == 403
    assert _imports(cast.alpha) == []


def test_a_staff_member_imports_clients(cast, login_as):
    client = login_as(cast.sam)
    _upload(client, "alpha", _csv(GOOD).encode())
    [client_import] = _imports(cast.alpha)

    _confirm(client, client_import)

    assert len(_clients(cast.alpha)) == 2


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(
            "\ufeffDisplay_Name,Tax_ID\r\nJosé Núñez,123-45-6789\r\n".encode(),
            id="utf-8 with BOM",
        ),
        pytest.param(
            "display_name,tax_id\nJosé Núñez,123-45-6789\n".encode(), id="utf-8"
        ),
        pytest.param(
            "display_name,tax_id\r\nJosé Núñez,123-45-6789\r\n".encode("cp1252"),
            id="cp1252",
        ),
    ],
)
def test_utf8_with_or_without_bom_and_windows_text_are_read(cast, login_as, data):
    client = login_as(cast.alice)

    _upload(client, "alpha", data)

    [client_import] = _imports(cast.alpha)
    assert client_import.error_count == 0
    _confirm(client, client_import)
    [imported] = _clients(cast.alpha)
    assert imported.display_name == "José Núñez"
    assert imported.tax_id_last4 == "6789"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
            "This is a PDF file, not a CSV file.",
        ),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00", "Excel (.xlsx) or ZIP file"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00\x00", "This file is not a text CSV file."),
        (bytes(range(256)) * 4, "This file is not a text CSV file."),
    ],
    ids=["pdf", "xlsx", "program", "binary"],
)
def test_a_renamed_binary_file_is_refused_and_not_kept(cast, login_as, data, message):
    client = login_as(cast.alice)

    response = _upload(client, "alpha", data, name="clients.csv")

    assert response.status_code == 200
    assert message in response.content.decode()
    assert _imports(cast.alpha) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The file is empty."),
        ("\r\n\r\n", "The file is empty."),
        ("display_name,tax_id\r\n", "The file has a header row but no clients."),
        (
            'display_name,email\r\n"Acme, Inc,acme@example.com\r\nBeta,b@example.com\r\n',
            "a quote is probably not closed",
        ),
        (
            "display_name;email\r\nAcme;acme@example.com\r\n",
            "separates its columns with semicolons",
        ),
        ("name,email\r\nAcme,acme@example.com\r\n", "including display_name"),
        (
            "display_name,Display Name\r\nAcme,Acme\r\n",
            "The column “display_name” appears twice",
        ),
    ],
    ids=[
        "empty",
        "blank lines",
        "header only",
        "open quote",
        "semicolons",
        "no name column",
        "twice",
    ],
)
def test_a_file_that_is_not_a_table_of_clients_gets_a_clear_message(
    cast, login_as, text, message
):
    client = login_as(cast.alice)

    response = _upload(client, "alpha", text.encode())

    assert response.status_code == 200
    assert message in response.content.decode()
    assert _imports(cast.alpha) == []


def test_too_many_rows_are_refused(cast, login_as):
    text = "display_name\n" + "Client\n" * (MAX_ROWS + 1)

    response = _upload(login_as(cast.alice), "alpha", text.encode())

    assert "more than 20,000 clients" in response.content.decode()
    assert _imports(cast.alpha) == []


def test_a_file_over_5_mb_is_refused(cast, login_as):
    text = "display_name,industry\n" + ("A," + "x" * 1000 + "\n") * 5300

    response = _upload(login_as(cast.alice), "alpha", text.encode())

    assert "larger than 5 MB" in response.content.decode()
    assert _imports(cast.alpha) == []


def test_rows_are_checked_by_the_services_rules(cast, login_as, make_client):
    make_client(cast.alpha, "Taken Inc", client_code="TAKEN", entity_type="c_corp")
    header = [
        "display_name",
        "client_code",
        "entity_type",
        "status",
        "fiscal_year_end",
        "tax_id",
        "email",
        "country",
        "contact_last_name",
    ]
    rows = [
        ["A", "taken", "", "", "", "", "", "", ""],
        ["B", "dup", "", "", "", "", "", "", ""],
        ["C", "DUP", "", "", "", "", "", "", ""],
        ["D", "", "corporation-ish", "", "", "", "", "", ""],
        ["E", "", "", "gone", "02/30", "", "", "", ""],
        ["F", "", "", "", "", "12-34", "not-an-email", "USA", ""],
        ["", "", "", "", "", "", "", "", ""],  # an empty line is skipped
        ["", "NONAME", "", "", "", "", "", "", "Lee"],
    ]
    _upload(login_as(cast.alice), "alpha", _csv(rows, header).encode())
    [client_import] = _imports(cast.alpha)

    errors = {(m["row"], m["column"]): m["message"] for m in client_import.errors}

    assert errors == {
        (2, "client_code"): "Another client already has this code.",
        (4, "client_code"): "Row 3 of the file has this code too.",
        (5, "entity_type"): "Unknown value “corporation-ish”: use one of individual, "
        "sole proprietorship, llc, s corporation, c corporation, partnership, "
        "nonprofit, trust / estate.",
        (6, "status"): "Unknown value “gone”: use one of prospect, active, inactive, "
        "archived.",
        (6, "fiscal_year_end"): "Write the fiscal year end as MM/DD, e.g. 12/31.",
        (7, "tax_id"): "A tax id has 9 digits: an SSN or ITIN as 123-45-6789, an EIN "
        "as 12-3456789.",
        (7, "email"): "Enter a valid email address.",
        (7, "country"): "Use a two-letter country code, e.g. US or CA.",
        (9, "display_name"): "A client needs a display name.",
        (9, "contact_first_name"): "A new contact needs a first name.",
    }
    assert client_import.error_count == 6
    assert client_import.row_count == 7


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("S corporation", EntityType.S_CORP),
        ("s_corp", EntityType.S_CORP),
        ("S-Corp", EntityType.S_CORP),
        ("llc", EntityType.LLC),
        ("Sole proprietor", EntityType.SOLE_PROPRIETORSHIP),
        ("Trust / estate", EntityType.TRUST_ESTATE),
        ("non-profit", EntityType.NONPROFIT),
    ],
)
def test_entity_types_are_read_from_labels_or_values(cast, written, expected):
    text = _csv([["Acme", written]], ["display_name", "entity_type"])
    with tenant_context(cast.alpha):
        client_import = client_import_create(
            organization=cast.alpha, user=cast.alice, filename="a.csv", text=text
        )
        client_import_run(client_import=client_import, user=cast.alice)
        assert Client.objects.get().entity_type == expected


def test_a_known_contact_email_links_that_contact_instead_of_a_new_one(
    cast, login_as, make_client, make_contact
):
    existing_client = make_client(cast.alpha, "Old Client")
    dana = make_contact(
        existing_client, "Dana", "Lee", email="Dana@BrightSmile.example"
    )
    client = login_as(cast.alice)
    rows = [list(GOOD[0]), list(GOOD[0])]
    rows[1][0], rows[1][1] = "Bright Smile Holdings", "BRIGHTH"
    rows[0][9] = rows[1][9] = "jo@new.example"  # one new person on two rows
    rows.append(list(GOOD[1]))
    rows[2][9] = "dana@brightsmile.example"
    _upload(client, "alpha", _csv(rows).encode())
    [client_import] = _imports(cast.alpha)

    preview = client.get(_preview_url(client_import)).content.decode()

    assert "Links the existing contact Dana Lee instead of creating one." in preview
    assert "Links the contact created by row 2." in preview
    _confirm(client, client_import)
    with tenant_context(cast.alpha):
        assert Contact.objects.count() == 2  # Dana and Jo
        jordan = Client.objects.get(display_name="Jordan Rivers")
        assert list(jordan.contacts.all()) == [dana]
        jo = Contact.objects.get(email="jo@new.example")
        assert jo.clients.count() == 2


def test_codes_the_file_asks_for_are_not_taken_by_suggested_ones(cast, login_as):
    rows = [["John Smith", ""], ["Jane Smith", "SMITH-J"]]
    client = login_as(cast.alice)
    _upload(client, "alpha", _csv(rows, ["display_name", "client_code"]).encode())
    [client_import] = _imports(cast.alpha)

    _confirm(client, client_import)

    codes = {c.display_name: c.client_code for c in _clients(cast.alpha)}
    assert codes == {"Jane Smith": "SMITH-J", "John Smith": "SMITH-J2"}


def test_the_uploaded_file_is_encrypted_at_rest_and_kept_out_of_the_change_log(
    cast, login_as
):
    _upload(login_as(cast.alice), "alpha", _csv(GOOD).encode())
    [client_import] = _imports(cast.alpha)

    with platform_bypass(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT content FROM clients_clientimport WHERE id = %s",
            [client_import.pk],
        )
        [raw] = cursor.fetchone()
    assert "Bright Smile" not in raw
    assert "123-45-6789" not in raw
    with platform_bypass():
        entry = LogEntry.objects.get(object_pk=str(client_import.pk), action=0)
    assert "content" not in entry.changes_dict
    assert "filename" in entry.changes_dict


def test_the_template_lists_every_column(cast, login_as):
    client = login_as(cast.sam)

    response = client.get(
        reverse("clients:import_template", kwargs={"org_slug": "alpha"})
    )

    assert response["Content-Type"] == "text/csv"
    assert "attachment" in response["Content-Disposition"]
    header = response.content.decode().splitlines()[0]
    assert header.startswith("display_name,client_code,legal_name,entity_type")
    assert header.endswith("contact_phone,contact_role")
    page = client.get(reverse("clients:import_upload", kwargs={"org_slug": "alpha"}))
    assert b"partner_email" in page.content


@pytest.mark.parametrize("rows", [10, 150])
def test_the_preview_costs_the_same_queries_for_any_number_of_rows(
    cast, login_as, django_assert_num_queries, rows
):
    text = _csv(
        [
            [f"Client {n}", f"C{n}", "LLC", "", "", "", "VIP", "Pat", "Doe", "", ""]
            for n in range(rows)
        ]
    )
    with tenant_context(cast.alpha):
        client_import = client_import_create(
            organization=cast.alpha, user=cast.alice, filename="a.csv", text=text
        )
    client = login_as(cast.alice)
    url = _preview_url(client_import)
    client.get(url)  # warm the session

    # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's firms
    # (the membership and the switcher), 5 the import with its uploader, 6 leave the
    # context. The rows come from the import's own text.
    with django_assert_num_queries(6):
        response = client.get(url)

    assert response.status_code == 200
    assert response.content.count(b"data-row=") == rows


def test_a_confirmed_import_runs_in_the_background_and_shows_progress(cast, login_as):
    client = login_as(cast.alice)
    _upload(client, "alpha", _csv(GOOD).encode())
    [client_import] = _imports(cast.alpha)

    response = _confirm(client, client_import, run_job=False)

    assert response.url == _preview_url(client_import)
    assert _clients(cast.alpha) == []  # queued, not yet run
    page = client.get(response.url).content.decode()
    assert 'data-testid="import-progress"' in page
    assert "Waiting to start" in page
    status_url = reverse(
        "clients:import_status",
        kwargs={"org_slug": "alpha", "import_uuid": client_import.uuid},
    )
    assert 'hx-trigger="every 1s"' in client.get(status_url).content.decode()
    # A second confirm while it is queued does not queue it again.
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        _confirm(client, client_import, run_job=False)
    assert callbacks == []


def test_the_job_imports_and_the_progress_panel_says_so(cast, login_as):
    client = login_as(cast.alice)
    _upload(client, "alpha", _csv(GOOD).encode())
    [client_import] = _imports(cast.alpha)
    _confirm(client, client_import)
    status_url = reverse(
        "clients:import_status",
        kwargs={"org_slug": "alpha", "import_uuid": client_import.uuid},
    )
    panel = client.get(status_url).content.decode()
    assert 'data-testid="import-done"' in panel
    assert "every 1s" not in panel  # polling stops


def test_a_failed_job_puts_the_file_back_to_its_preview_with_a_message(cast, login_as):
    from clients.services.imports import client_import_fail

    client = login_as(cast.alice)
    _upload(client, "alpha", _csv(GOOD).encode())
    [client_import] = _imports(cast.alpha)
    _confirm(client, client_import, run_job=False)
    with tenant_context(cast.alpha):
        client_import_fail(client_import=client_import)

    [client_import] = _imports(cast.alpha)
    assert client_import.status == ImportStatus.PREVIEWED
    page = client.get(_preview_url(client_import)).content.decode()
    assert "stopped on an unexpected error and nothing was imported" in page
    assert _clients(cast.alpha) == []


# The firm's plan (advisoros.tenancy.plans) --------------------------------------


def test_a_file_that_would_take_the_firm_over_its_plan_is_refused_whole(
    cast, login_as, make_client, alpha_on_starter
):
    make_client(cast.alpha, "Already Here")
    make_client(cast.alpha, "Also Here")
    client = login_as(cast.alice)

    _upload(client, "alpha", _csv(GOOD).encode())
    [client_import] = _imports(cast.alpha)
    preview = client.get(_preview_url(client_import)).content.decode()
    response = _confirm(client, client_import)

    message = (
        "Your plan (Starter) allows 3 clients: the firm has 2 and this adds 2. "
        "Nothing was added; upgrade on the Subscription page."
    )
    assert client_import.error_count == 1
    assert message in preview
    assert "disabled>Import 2 clients" in preview
    assert response.status_code == 302
    assert len(_clients(cast.alpha)) == 2


def test_the_plan_is_checked_again_when_the_import_runs(
    cast, login_as, make_client, alpha_on_starter, starter
):
    make_client(cast.alpha, "Already Here")
    _upload(login_as(cast.alice), "alpha", _csv(GOOD).encode())
    [client_import] = _imports(cast.alpha)
    assert client_import.error_count == 0
    starter.max_clients = 2  # the plan changed between the preview and the run
    starter.save()

    with tenant_context(cast.alpha):
        outcome = client_import_run(client_import=client_import, user=cast.alice)
        client_import.refresh_from_db()

    assert outcome.status == "invalid"
    assert len(_clients(cast.alpha)) == 1
    assert client_import.status == ImportStatus.PREVIEWED
    assert client_import.errors[0]["row"] == 0
    assert client_import.errors[0]["message"].startswith(
        "Your plan (Starter) allows 2 clients: the firm has 1 and this adds 2."
    )


def test_archived_rows_of_a_file_do_not_count_against_the_plan(
    cast, login_as, make_client, alpha_on_starter
):
    for name in ("One", "Two"):
        make_client(cast.alpha, name)
    rows = [[*GOOD[0], "active"], [*GOOD[1], "archived"]]

    _upload(login_as(cast.alice), "alpha", _csv(rows, [*HEADER, "status"]).encode())

    [client_import] = _imports(cast.alpha)
    assert client_import.error_count == 0
