"""Screens of the execution data (workflows/execution_views.py)."""

from django.urls import path

from . import execution_views as views

urlpatterns = [
    path("execution/import/", views.execution_import, name="execution_import"),
    path("execution/exceptions/", views.execution_exceptions_page, name="execution_exceptions"),
    path("execution/exceptions.xlsx", views.execution_exceptions_xlsx, name="execution_exceptions_xlsx"),
    path("projects/<id:pk>/payment-plan/", views.payment_plan, name="payment_plan"),
]
