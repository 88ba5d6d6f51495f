"""The REST API (DESIGN §6): every action a screen offers, under /api/."""

from django.urls import include, path

urlpatterns = [
    path("", include("processes.api.urls")),
    path("", include("workflows.api_urls")),
    path("", include("notifications.api_urls")),
    path("", include("reports.api_urls")),
]
