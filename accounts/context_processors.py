from django.urls import reverse

from .roles import API_ROLES, Role


def landing_url_for(user) -> str:
    """Where a user lands after logging in (and where the brand links): the supervisors'
    board, the congress reader's reports, everybody else's inbox."""
    if user.is_authenticated and Role.SUPERVISOR in user.role_names:
        return reverse("workflows:deadline_board")
    if user.is_authenticated and user.role_names == {Role.CONGRESS_READER}:
        return reverse("reports:overview")
    return reverse("workflows:inbox")


def roles(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_roles": frozenset(), "uses_api": False, "congress_only": False}
    return {
        "user_roles": user.role_names,
        "uses_api": bool(API_ROLES & set(user.role_names)),
        "landing_url": landing_url_for(user),
        # 人大预算工委 alone: the menu shows the reports only (accounts.middleware)
        "congress_only": user.role_names == {Role.CONGRESS_READER},
    }
