"""Screens that show or move a flow: the inbox, a task, a project's page and its actions."""

from django.urls import path

from . import views

app_name = "workflows"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("tasks/<int:pk>/", views.task_detail, name="task"),
    path("projects/<int:pk>/", views.project_detail, name="project_detail"),
    path("projects/<int:pk>/act/<slug:action>/", views.project_act, name="project_act"),
]
