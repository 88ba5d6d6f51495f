"""Project screens, and the inbox (settings.LOGIN_REDIRECT_URL is processes:inbox).

The inbox, the project page and its actions show or move the project's flow, so their
views live in workflows.views and processes' own modules never import workflows. This
URL module is the one exception: it wires those views under the processes names, so
that every screen of a project has one namespace and LOGIN_REDIRECT_URL resolves. (The
API does it the other way round, decision 0006: workflows routes /api/projects/. Doing
the same here would mean LOGIN_REDIRECT_URL = "workflows:inbox".)
"""

from django.urls import path

from workflows import views as flow_views

from . import views

app_name = "processes"
urlpatterns = [
    path("", flow_views.inbox, name="inbox"),
    path("projects/", views.project_list, name="project_list"),
    path("projects/new/", views.project_new, name="project_new"),
    path("projects/<int:pk>/", flow_views.project_detail, name="project_detail"),
    path("projects/<int:pk>/edit/", views.project_edit, name="project_edit"),
    path("projects/<int:pk>/act/<slug:action>/", flow_views.project_act, name="project_act"),
]
