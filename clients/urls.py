"""The clients app's pages, under /o/<org-slug>/. Each views module owns its URLs."""

from __future__ import annotations

from clients.views import client_detail, clients, contacts, engagements, imports, notes

app_name = "clients"

urlpatterns = [
    *clients.urlpatterns,
    *client_detail.urlpatterns,
    *contacts.urlpatterns,
    *notes.urlpatterns,
    *engagements.urlpatterns,
    *imports.urlpatterns,
]
