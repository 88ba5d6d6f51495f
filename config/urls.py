from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from config.csp import SwaggerView

urlpatterns = [
    path("", include("processes.urls")),
    path("", include("workflows.urls")),
    path("", include("reports.urls")),
    path("notifications/", include("notifications.urls")),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SwaggerView.as_view(url_name="schema"), name="api-docs"),
]
# No /media/ URL, not even with DEBUG: every upload is private and is served only by a view
# that checks the reader's rights to its object (processes.files, decision 0015).
