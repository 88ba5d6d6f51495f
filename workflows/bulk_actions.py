"""Bulk actions (批量办理, decision 0023): one declared transition applied to many items,
the same way for every action — a screen (filter form, the matching items paged with a
tick box each, a confirmation with an optional comment), the API beside it
(``POST /api/bulk/<action>/`` with the ids or the filter → 202 and the job), and a
background job (processes.services.jobs) whose page shows the live progress and, at the
end, the count done and each refused item with its reason.

An action is a :class:`BulkAction` registered here under its key. It says who may start
it (``roles``), which items the user may act on (``candidates``: the user's visible items
in the transition's source state — a filter only ever narrows that), the filter form, the
list's columns, and the domain service that applies the transition in bulk
(``processes.services.*_many``, built on ``processes.transitions.apply_many``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from processes.api.indicators import JobSerializer
from processes.api.responses import BAD_REQUEST, FORBIDDEN
from processes.api.serializers import ErrorSerializer
from processes.models import Job
from processes.services.jobs import JOB_KINDS, JobKind, Progress, job_start
from processes.transitions import TAKEN_MESSAGE, BulkOutcome

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from accounts.models import User

#: The list shows this many items per page.
PAGE_SIZE = 50
#: At most this many items in one action (a district has 3,755 projects).
MAX_ITEMS = 10000

#: The job's phase while it reads the selection.
PHASE_READ = gettext_noop("读取所选事项")


@dataclass(frozen=True)
class BulkAction:
    """One bulk action: see the module. ``run(actor=, objs=, comment=, progress=)`` is the
    domain service; ``columns`` are (heading, fn(obj) → text) of the list; ``related`` the
    list's select_related (no per-row query)."""

    key: str
    label: StrOrPromise
    model: type[models.Model]
    roles: frozenset[str]
    candidates: Callable[[User], models.QuerySet]
    filter_form: type[BulkFilterForm]
    run: Callable[..., BulkOutcome]
    columns: Sequence[tuple[StrOrPromise, Callable[[Any], Any]]]
    related: tuple[str, ...] = ()
    help: StrOrPromise = ""
    comment_required: bool = False
    ordering: tuple[str, ...] = ("pk",)

    @property
    def job_kind(self) -> str:
        return f"bulk_{self.key}"

    def may_start(self, user: User) -> bool:
        return bool(user.is_authenticated and user.role_names & self.roles)

    def require(self, user: User) -> None:
        if not self.may_start(user):
            raise PermissionDenied(_("您没有权限执行「%(action)s」。") % {"action": self.label})

    def selection(self, user: User, data: dict | None) -> models.QuerySet:
        """The user's candidates narrowed by the filter ``data``; ValidationError if it is bad."""
        form = self.filter_form(data or {}, user=user)
        if not form.is_valid():
            raise ValidationError({name: list(errors) for name, errors in form.errors.items()})
        return form.narrow(self.candidates(user)).order_by(*self.ordering)


class BulkFilterForm(forms.Form):
    """The filter of a bulk action's list; ``narrow(queryset)`` applies the cleaned data.
    Every field is optional: no filter is every candidate."""

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def narrow(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset


BULK_ACTIONS: dict[str, BulkAction] = {}


def register_bulk_action(action: BulkAction) -> None:
    """Register ``action`` and its job kind (called by workflows.apps at start-up)."""
    BULK_ACTIONS[action.key] = action
    JOB_KINDS[action.job_kind] = JobKind(
        function="workflows.bulk_actions.bulk_job",
        label=action.label,
        result_labels={
            "total": gettext_lazy("所选事项"),
            "done": gettext_lazy("已办理"),
            "refused_count": gettext_lazy("未办理"),
        },
        return_url="workflows:bulk_index",
    )


def bulk_action(key: str) -> BulkAction:
    try:
        return BULK_ACTIONS[key]
    except KeyError:
        raise Http404(_("没有这个批量操作。")) from None


def bulk_actions_for(user: User) -> list[BulkAction]:
    return [a for a in BULK_ACTIONS.values() if a.may_start(user)]


# -- starting and running ---------------------------------------------------------------------


def bulk_action_start(*, action: BulkAction, actor: User, ids: Sequence[int], comment: str = "") -> Job:
    """Queue ``action`` over ``ids`` (already read from the actor's selection) as a job.
    PermissionDenied for a wrong role; ValidationError for an empty or oversized selection
    or a missing comment where the action needs one."""
    action.require(actor)
    ids = sorted({int(i) for i in ids})
    if not ids:
        raise ValidationError({"ids": _("请至少选择一项。")})
    if len(ids) > MAX_ITEMS:
        raise ValidationError({"ids": _("一次最多办理 %(n)s 项，请缩小筛选范围。") % {"n": MAX_ITEMS}})
    comment = (comment or "").strip()
    if action.comment_required and not comment:
        raise ValidationError({"comment": _("请填写意见。")})
    return job_start(kind=action.job_kind, actor=actor, params={"action": action.key, "ids": ids, "comment": comment})


def bulk_job(job: Job, progress: Progress) -> dict[str, Any]:
    """The job of every bulk action: re-read the selection as the starter may act on it now
    (an item that left it meanwhile is refused, as taken by someone else), apply the
    action's service, and list what was refused and why."""
    action = bulk_action(job.params["action"])
    actor = job.created_by
    action.require(actor)
    ids = list(job.params["ids"])
    progress.start(PHASE_READ, len(ids))
    objs = list(action.candidates(actor).filter(pk__in=ids).select_related(*action.related).order_by("pk"))
    found = {o.pk for o in objs}
    outcome = action.run(actor=actor, objs=objs, comment=job.params.get("comment", ""), progress=progress)
    refused = [
        {
            "id": pk,
            "item": f"#{pk}",
            "url": "",
            "reason": _("%(taken)s，或已不在您可办理的范围内") % {"taken": _(TAKEN_MESSAGE)},
        }
        for pk in ids
        if pk not in found
    ]
    refused += [
        {"id": obj.pk, "item": str(obj), "url": _url_of(obj), "reason": reason} for obj, reason in outcome.refused
    ]
    return {"total": len(ids), "done": len(outcome.done), "refused_count": len(refused), "refused": refused}


def _url_of(obj: models.Model) -> str:
    url = getattr(obj, "get_absolute_url", None)
    return url() if callable(url) else ""


# -- the screen ---------------------------------------------------------------------------------


@login_required
def bulk_action_page(request, action: str):
    """The bulk action's screen: GET lists the user's candidates through the filter (paged,
    ticked); POST (the same filter in the query string) starts the job and goes to its page."""
    bulk = bulk_action(action)
    bulk.require(request.user)
    filter_form = bulk.filter_form(request.GET or None, user=request.user)
    queryset = bulk.candidates(request.user)
    if filter_form.is_bound and filter_form.is_valid():
        queryset = filter_form.narrow(queryset)
    queryset = queryset.order_by(*bulk.ordering)
    errors: list[str] = []
    status_code = 200
    if request.method == "POST":
        scope = request.POST.get("scope", "ticked")
        if scope == "all":
            ids = list(queryset.values_list("pk", flat=True))
        else:
            try:
                ticked = {int(i) for i in request.POST.getlist("ids")}
            except ValueError:
                ticked = set()
            ids = list(queryset.filter(pk__in=ticked).values_list("pk", flat=True)) if ticked else []
        try:
            job = bulk_action_start(action=bulk, actor=request.user, ids=ids, comment=request.POST.get("comment", ""))
        except ValidationError as exc:
            errors = exc.messages
            status_code = 400
        else:
            messages.success(request, _("已开始后台办理 %(n)s 项。") % {"n": len(job.params["ids"])})
            return redirect("processes:job_detail", job.pk)
    page = Paginator(queryset.select_related(*bulk.related), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(obj, [fn(obj) for _h, fn in bulk.columns]) for obj in page.object_list]
    return render(
        request,
        "workflows/bulk/action.html",
        {
            "bulk": bulk,
            "filter_form": filter_form,
            "page": page,
            "rows": rows,
            "headings": [h for h, _fn in bulk.columns],
            "count": page.paginator.count,
            "errors": errors,
            "comment": request.POST.get("comment", "") if request.method == "POST" else "",
        },
        status=status_code,
    )


# -- the API --------------------------------------------------------------------------------------


class BulkRequestSerializer(serializers.Serializer):
    """Either ``ids`` (the items, each among those the user may act on) or ``filter`` (the
    screen's filter fields; ``{}`` selects every candidate), and an optional comment."""

    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**31 - 1), required=False)
    filter = serializers.DictField(required=False)
    comment = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if ("ids" in attrs) == ("filter" in attrs):
            raise serializers.ValidationError(_("请给出 ids 或 filter 之一。"))
        return attrs


class BulkActionAPIView(APIView):
    """POST /api/bulk/<action>/: start a bulk action as a background job."""

    @extend_schema(
        summary=_("批量办理（后台任务）"),
        description=_(
            "按 ids 或筛选条件（filter，与页面的筛选项相同）选定事项并在后台批量办理；"
            "返回 202 和任务，用 GET /api/jobs/{id}/ 查看进度和结果（已办理数，未办理事项及原因）。"
        ),
        parameters=[
            OpenApiParameter(
                "action",
                str,
                OpenApiParameter.PATH,
                description=_(
                    "批量操作：start_execution、accept_self_evaluations、leader_self_evaluations、leader_targets、leader_reports 等"
                ),
            )
        ],
        request=BulkRequestSerializer,
        responses={
            202: JobSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: OpenApiResponse(ErrorSerializer, description=_("没有这个批量操作。")),
        },
    )
    def post(self, request, action: str):
        bulk = bulk_action(action)
        bulk.require(request.user)
        body = BulkRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            if "ids" in data:
                wanted = set(data["ids"])
                ids = list(bulk.candidates(request.user).filter(pk__in=wanted).values_list("pk", flat=True))
                if len(ids) != len(wanted):
                    unknown = sorted(wanted - set(ids))[:20]
                    raise ValidationError(
                        {
                            "ids": _("以下事项不存在、不在您的可见范围内或当前不能办理：%(ids)s")
                            % {"ids": ", ".join(map(str, unknown))}
                        }
                    )
            else:
                ids = list(bulk.selection(request.user, data["filter"]).values_list("pk", flat=True))
            job = bulk_action_start(action=bulk, actor=request.user, ids=ids, comment=data["comment"])
        except ValidationError as exc:
            return Response(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}, status=400)
        response = Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
        response["Location"] = reverse("job-detail", args=[job.pk])
        return response


@login_required
def bulk_action_index(request):
    """批量办理: the bulk actions the user may start (403 if none)."""
    actions = bulk_actions_for(request.user)
    if not actions:
        raise PermissionDenied(_("您没有可以批量办理的事项。"))
    leader = any(request.user.has_role(role) for a in actions for role in a.roles if role == "dept_leader")
    return render(request, "workflows/bulk/index.html", {"actions": actions, "leader": leader})
