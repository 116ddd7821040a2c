"""The client portal's pages, under /p/<org-slug>/ (portal.middleware sets request.portal)."""

from __future__ import annotations

from django.urls import include, path

from portal.views import auth, home, requests

app_name = "portal"

urlpatterns = [
    # Signing in (anyone may open these).
    path("", auth.sign_in, name="sign_in"),
    path("sign-in/code/", auth.code_request, name="code_request"),
    path("sign-in/code/enter/", auth.code_verify, name="code_verify"),
    path("sign-in/two-factor/", auth.two_factor, name="two_factor"),
    path("sign-in/two-factor/setup/", auth.two_factor_setup, name="two_factor_setup"),
    path("sign-out/", auth.sign_out, name="sign_out"),
    path("welcome/<str:token>/", auth.invitation, name="invitation"),
    path("r/<str:token>/", auth.link_continue, name="link"),
    # A signed-in contact.
    path("home/", home.home, name="home"),
    path("firms/", home.firms, name="firms"),
    path("account/", auth.account, name="account"),
    # Requests: a signed-in contact with upload rights, or a request link.
    path(
        "requests/<uuid:request_uuid>/", requests.request_detail, name="request_detail"
    ),
    path(
        "requests/<uuid:request_uuid>/items/<uuid:item_uuid>/upload/",
        requests.item_upload,
        name="item_upload",
    ),
    path(
        "requests/<uuid:request_uuid>/uploads/<uuid:document_uuid>/remove/",
        requests.upload_remove,
        name="upload_remove",
    ),
    path("", include("portal.urls_documents")),
    path("", include("portal.urls_letters")),
    path("", include("portal.urls_messages")),
    path("", include("portal.urls_invoices")),
]
