"""The supervisors' deadline board (workflows/board_views.py)."""

urlpatterns: list = []
