from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from config.csp import SwaggerView


class FaviconView(RedirectView):
    """/favicon.ico → the icon kept with the static files (its hashed name in production)."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs):
        return static("favicon.ico")


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
    # browsers ask for /favicon.ico whatever the page links: the icon kept with the static files
    path("favicon.ico", FaviconView.as_view(), name="favicon"),
]
# No /media/ URL, not even with DEBUG: every upload is private and is served only by a view
# that checks the reader's rights to its object (processes.files, decision 0015).
