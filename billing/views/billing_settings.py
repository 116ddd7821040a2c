"""The firm's billing settings (admins): currency, payment terms, tax, time
rules and rates, reminders, late fee, and the invoice footer."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path

from advisoros.forms import add_service_errors
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from billing.forms_invoices import BillingSettingsForm
from billing.selectors import billing_settings
from billing.services.settings import billing_settings_update


@require_role(Role.ADMIN)
def billing_settings_page(request: OrgRequest, org_slug: str) -> HttpResponse:
    # Query: the firm's billing settings (made with the defaults on first use).
    settings = billing_settings(request.organization)
    form = BillingSettingsForm(request.POST or None, instance=settings)
    if request.method == "POST" and form.is_valid():
        try:
            billing_settings_update(settings=settings, data=form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                "Billing settings saved. New invoices follow them; issued ones keep "
                "their own.",
            )
            return redirect("billing:billing_settings", org_slug=org_slug)
    ctx = {"form": form, "settings": settings}
    return render(request, "billing/billing_settings.html", ctx)


urlpatterns = [
    path("billing/settings/", billing_settings_page, name="billing_settings"),
]
