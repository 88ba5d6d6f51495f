from django.urls import path

from . import views

app_name = "workflows"
urlpatterns = [
    path("tasks/<int:pk>/", views.task_detail, name="task"),
]
