"""The firm's document settings page: upload limit, OCR review threshold, reminder
cadence and retention years per category; owners and admins only."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType

from advisoros.audit.models import LogEntry
from advisoros.tenancy.db import platform_bypass, tenant_context
from documents.models import DocumentCategory, DocumentSettings
from tests.documents.stored_documents import stored_document
from tests.factories import make_client

URL = "/o/alpha/documents/settings/"


def _data(**changes) -> dict:
    data = {
        "max_upload_mb": "200",
        "ocr_review_threshold": "0.80",
        "reminder_every_days": "7",
        **{f"retention_{c}": "" for c in DocumentCategory.values},
    }
    data.update(changes)
    return data


def _settings(org) -> DocumentSettings:
    with tenant_context(org):
        return DocumentSettings.objects.get(organization=org)


def test_the_page_shows_the_defaults_and_the_firms_retention_years(cast, login_as):
    response = login_as(cast.adam).get(URL)

    assert response.status_code == 200
    form = response.context["form"]
    assert form["max_upload_mb"].value() == 200
    assert form["reminder_every_days"].value() == 7
    assert len(form.retention_fields()) == len(DocumentCategory.values)
    assert b'placeholder="7"' in response.content  # the firm's default, per category


def test_an_admin_saves_the_settings_and_the_change_log_records_them(cast, login_as):
    client = login_as(cast.adam)
    client.get(URL)  # the row is made on first use

    response = client.post(
        URL,
        _data(
            max_upload_mb="50",
            ocr_review_threshold="0.9",
            reminder_every_days="3",
            retention_tax_return="0",
            retention_receipt="4",
        ),
        follow=True,
    )

    assert response.redirect_chain[-1][0] == URL
    assert b"Document settings saved." in response.content
    saved = _settings(cast.alpha)
    assert (saved.max_upload_mb, saved.ocr_review_threshold) == (50, Decimal("0.90"))
    assert saved.reminder_every_days == 3
    assert saved.retention_years_by_category == {"tax_return": 0, "receipt": 4}
    with platform_bypass():
        [entry] = LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(DocumentSettings),
            object_id=saved.pk,
            action=LogEntry.Action.UPDATE,
        )
    assert entry.actor == cast.adam
    assert entry.organization_id == cast.alpha.pk
    assert {
        "max_upload_mb",
        "reminder_every_days",
        "retention_years_by_category",
    } <= set(entry.changes_dict)
    # Shown back: the overrides fill their fields, 0 included.
    page = client.get(URL)
    assert page.context["form"]["retention_tax_return"].value() == 0
    assert page.context["form"]["retention_receipt"].value() == 4


def test_bad_values_are_refused_with_messages_and_nothing_changes(cast, login_as):
    client = login_as(cast.alice)

    response = client.post(
        URL,
        _data(
            ocr_review_threshold="1.5",
            reminder_every_days="0",
            retention_w2="-1",
        ),
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"ocr_review_threshold", "reminder_every_days", "retention_w2"} <= set(
        errors
    )
    saved = _settings(cast.alpha)
    assert (saved.reminder_every_days, saved.retention_years_by_category) == (7, {})


def test_a_new_retention_policy_redates_the_firms_documents(
    cast, login_as, django_capture_on_commit_callbacks
):
    jane = make_client(cast.alpha, "Jane Doe")
    tax_return = stored_document(jane, category="tax_return", tax_year=2015)
    w2 = stored_document(jane, category="w2", tax_year=2015)
    beta_return = stored_document(
        make_client(cast.beta, "Beta Client"), category="tax_return", tax_year=2015
    )
    assert tax_return.retention_until == date(2022, 12, 31)

    with django_capture_on_commit_callbacks(execute=True):
        login_as(cast.alice).post(URL, _data(retention_tax_return="0"))

    with platform_bypass():
        tax_return.refresh_from_db()
        w2.refresh_from_db()
        beta_return.refresh_from_db()
    assert tax_return.retention_until is None  # kept permanently now
    assert w2.retention_until == date(2022, 12, 31)
    assert beta_return.retention_until == date(2022, 12, 31)  # another firm's policy


def test_clearing_a_category_returns_it_to_the_firms_default(cast, login_as):
    client = login_as(cast.alice)
    client.post(URL, _data(retention_k1="12"))
    assert _settings(cast.alpha).retention_years_by_category == {"k1": 12}

    client.post(URL, _data())

    assert _settings(cast.alpha).retention_years_by_category == {}
