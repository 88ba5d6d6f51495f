"""/api/reports/: the annual report (reports/api.py)."""

from django.urls import path

from .api import ReportDiscloseView, ReportView, ReportXlsxView, ReportYearListView
from .ledger import ResultsLedgerView

urlpatterns = [
    path("reports/", ReportYearListView.as_view(), name="report-years"),
    path("reports/<year:year>/", ReportView.as_view(), name="report-detail"),
    path("reports/<year:year>/xlsx/", ReportXlsxView.as_view(), name="report-xlsx"),
    path("reports/<year:year>/disclose/", ReportDiscloseView.as_view(), name="report-disclose"),
    path("results/ledger/<year:year>/", ResultsLedgerView.as_view(), name="results-ledger"),
]
