from django.contrib.auth import views as auth_views
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


class LoginView(auth_views.LoginView):
    """The login page; with no ``next`` it sends each role to its own landing page
    (``landing_url_for``: the supervisors' board, everybody else's inbox)."""

    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return landing_url_for(self.request.user)
