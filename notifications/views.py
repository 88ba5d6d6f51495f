"""The notification screen: the user's list, mark one read, mark all read."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from .selectors import notification_list_for
from .services import notification_mark_read

PAGE_SIZE = 50


@login_required
def notification_list(request):
    """通知: newest first; unread ones are highlighted."""
    notes = notification_list_for(request.user)
    page = Paginator(notes, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page})


@login_required
@require_POST
def notification_read(request, pk):
    """Mark one of the user's notifications read; with ``open``, go on to what it is about."""
    note = get_object_or_404(notification_list_for(request.user), pk=pk)
    notification_mark_read(user=request.user, notification_id=note.pk)
    if (
        request.POST.get("open")
        and note.url
        and url_has_allowed_host_and_scheme(
            note.url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return redirect(note.url)
    return redirect("notifications:list")


@login_required
@require_POST
def notification_read_all(request):
    changed = notification_mark_read(user=request.user)
    messages.success(
        request, ngettext("已将 %(n)d 条通知标为已读。", "已将 %(n)d 条通知标为已读。", changed) % {"n": changed}
    )
    return redirect("notifications:list")
