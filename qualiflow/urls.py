from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("qualiflow.shell.urls")),
    path("accounts/", include("qualiflow.accounts.urls")),
    path("org/", include("qualiflow.org.urls")),
    path("people/", include("qualiflow.people.urls")),
    path("training/", include("qualiflow.training.urls")),
    path("documents/", include("qualiflow.documents.urls")),
    path("production/", include("qualiflow.production.urls")),
    path("equipment/", include("qualiflow.equipment.urls")),
    path("quality/", include("qualiflow.quality.urls")),
    path("audit/", include("qualiflow.audit.urls")),
    path("integration/", include("qualiflow.integration.urls")),
    path("automation/", include("qualiflow.automation.urls")),
    path("imports/", include("qualiflow.imports.urls")),
    path("scim/v2/", include("qualiflow.scim.urls")),
    path("api/v1/", include("qualiflow.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
