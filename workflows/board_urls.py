"""The supervisors' deadline board (workflows/board_views.py)."""

from django.urls import path

from . import board_views

urlpatterns = [
    path("board/", board_views.deadline_board, name="deadline_board"),
    path("board/export.xlsx", board_views.deadline_board_xlsx, name="deadline_board_xlsx"),
]
