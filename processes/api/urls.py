"""API routes of the processes app.

/api/projects/ is routed by workflows.api_urls: its view (workflows.api.ProjectViewSet)
extends processes.api.views.ProjectViewSet with the stage actions, which drive workflow
tasks, and processes never imports workflows.
"""

from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token

urlpatterns = [
    # POST username + password → {"token": ...}; then send "Authorization: Token <token>".
    path("auth/token/", obtain_auth_token, name="api-token"),
]
