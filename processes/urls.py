"""Project screens that need only the domain: list, create, edit a draft.

The inbox, the project page and its actions show or move the project's flow, so they
are routed by workflows/urls.py (the import direction, decision 0006).
"""

from django.urls import path

from . import views

app_name = "processes"
urlpatterns = [
    path("projects/", views.project_list, name="project_list"),
    path("projects/new/", views.project_new, name="project_new"),
    path("projects/<int:pk>/edit/", views.project_edit, name="project_edit"),
]
