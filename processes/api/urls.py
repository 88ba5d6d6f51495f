"""API routes of the processes app.

/api/projects/ is routed by workflows.api_urls: its view (workflows.api.ProjectViewSet)
extends processes.api.views.ProjectViewSet with the stage actions, which drive workflow
tasks, and processes never imports workflows.
"""

from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api import obtain_api_token

from . import commissioned_urls, rectification_urls
from .indicators import IndicatorViewSet, JobViewSet

# /api/indicators/ (绩效指标库) and /api/jobs/ (background jobs): processes/api/indicators.py
router = SimpleRouter(use_regex_path=False)
router.register("indicators", IndicatorViewSet, basename="indicator")
router.register("jobs", JobViewSet, basename="job")

urlpatterns = [
    # POST username + password → {"token": ...}; then send "Authorization: Token <token>".
    # Tokens expire (idle and absolute) and end at logout: accounts.authentication.
    path("auth/token/", obtain_api_token, name="api-token"),
    *router.urls,
    *commissioned_urls.urlpatterns,
    *rectification_urls.urlpatterns,
]
