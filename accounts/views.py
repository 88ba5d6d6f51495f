from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from .context_processors import landing_url_for
from .models import User


@require_POST
def set_language(request):
    """Django's language switch, remembered on the account too, so e-mails and live
    notifications follow the language the person chose on screen."""
    response = django_set_language(request)
    language = request.POST.get("language")
    user = request.user
    if user.is_authenticated and language in dict(User._meta.get_field("language").flatchoices):
        User.objects.filter(pk=user.pk).update(language=language)
    return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """The user changes their own password. Saving it clears a temporary password's
    must-change flag, revokes the user's API tokens and is audited (User.save,
    accounts.passwords); the session stays signed in. Afterwards: the page the user
    was on their way to (``next``), or the inbox."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["must_change_password"] = getattr(self.request.user, "must_change_password", False)
        context["next"] = self._next()
        return context

    def _next(self) -> str:
        candidate = self.request.POST.get("next") or self.request.GET.get("next") or ""
        if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        ):
            return candidate
        return ""

    def get_success_url(self):
        return self._next() or landing_url_for(self.request.user)

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("密码已修改。"))
        return response


class LoginView(auth_views.LoginView):
    """The login page; with no ``next`` it sends each role to its own landing page
    (``landing_url_for``: the supervisors' board, everybody else's inbox)."""

    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return landing_url_for(self.request.user)
