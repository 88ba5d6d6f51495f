"""/api/evaluations/ (key and department-overall evaluations): processes/api/commissioned.py."""

urlpatterns: list = []
