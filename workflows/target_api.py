"""绩效目标 API (DESIGN §3.3, §6): a project's target versions with their rows, and every
action of their review — open the first draft, save a draft, submit, the leader's review,
the finance section's rating, a change request.

Targets are visible exactly when their project is (``project_get_for``: 404 otherwise).
Writes go through processes.services.targets and workflows.services (which move the
review's tasks). A refused row names its field as the screens do: ``rows.<i>.<field>``,
``i`` counted from 0 in the order the rows were sent (for a rating's edits, the row's
position − 1).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.response import Response

from processes.api.fields import IdField, flat_errors
from processes.api.responses import BAD_REQUEST, CONFLICT, FORBIDDEN, NOT_FOUND
from processes.api.serializers import AvailableActionSerializer
from processes.models import BudgetProject, TargetRow, TargetSet
from processes.numbers import MAX_INT
from processes.selectors import project_get_for
from processes.services.targets import target_draft_open, target_set_open_for, target_set_save
from processes.states import (
    TARGET_SET_OPEN,
    Direction,
    IndicatorLevel1,
    IndicatorLevel2,
    TargetRating,
    TargetSetStatus,
)
from processes.transitions import available

from .services import targets_change_request, targets_dept_review, targets_rate, targets_submit

# -- output ----------------------------------------------------------------------------


class TargetRowSerializer(serializers.Serializer):
    """One indicator row. ``edits`` holds the finance section's agreed changes when it rated
    the version 良: field → [before, after]."""

    position = serializers.IntegerField(help_text=gettext_lazy("序号，从 1 起"))
    indicator = serializers.IntegerField(source="indicator_id", allow_null=True)
    indicator_code = serializers.SerializerMethodField()
    level1 = serializers.ChoiceField(choices=IndicatorLevel1.choices)
    level1_display = serializers.CharField(source="get_level1_display")
    level2 = serializers.ChoiceField(choices=IndicatorLevel2.choices)
    level2_display = serializers.CharField(source="get_level2_display")
    name = serializers.CharField()
    direction = serializers.ChoiceField(choices=Direction.choices)
    direction_display = serializers.CharField(source="get_direction_display")
    target_value = serializers.DecimalField(max_digits=18, decimal_places=4, allow_null=True)
    target_text = serializers.CharField()
    unit = serializers.CharField()
    weight = serializers.DecimalField(max_digits=5, decimal_places=2)
    display_value = serializers.CharField()
    review_comment = serializers.CharField()
    edits = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField(allow_null=True), min_length=2, max_length=2),
        help_text=gettext_lazy("评为「良」时的审核修改：字段 → [修改前, 修改后]"),
    )

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_indicator_code(self, row: TargetRow):
        return row.indicator.code if row.indicator_id and row.indicator else None


class TargetSetSerializer(serializers.Serializer):
    """One version of a project's targets (1: filed with the budget; later: a change)."""

    id = serializers.IntegerField()
    project = serializers.IntegerField(source="project_id")
    number = serializers.IntegerField(help_text=gettext_lazy("版本号"))
    is_change = serializers.BooleanField()
    status = serializers.ChoiceField(choices=TargetSetStatus.choices)
    status_display = serializers.CharField(source="get_status_display")
    editable = serializers.BooleanField(help_text=gettext_lazy("草稿或退回修改时可由本部门经办人修改"))
    overall_goal = serializers.CharField()
    change_reason = serializers.CharField()
    rating = serializers.CharField(help_text=gettext_lazy("excellent | good | fair | poor；未评定时为空"))
    rating_display = serializers.CharField(source="get_rating_display")
    leader_comment = serializers.CharField()
    review_comment = serializers.CharField()
    revision = serializers.IntegerField(help_text=gettext_lazy("修订号：保存草稿时带上，他人已修改则返回 409"))
    created_by = serializers.CharField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    rated_by = serializers.CharField(allow_null=True)
    rated_at = serializers.DateTimeField(allow_null=True)
    rows = TargetRowSerializer(many=True)
    available_actions = serializers.SerializerMethodField(
        help_text=gettext_lazy("当前用户现在可对此版本执行的操作（由状态机的声明得出）")
    )

    @extend_schema_field(AvailableActionSerializer(many=True))
    def get_available_actions(self, target_set: TargetSet) -> list[dict[str, Any]]:
        request = self.context.get("request")
        if request is None:
            return []
        return AvailableActionSerializer(available(target_set, request.user), many=True).data  # type: ignore[return-value]


class ProjectTargetsSerializer(serializers.Serializer):
    """A project's targets: the version in force, the one being worked on, and all versions
    (newest first)."""

    project = serializers.IntegerField()
    in_force = serializers.IntegerField(allow_null=True, help_text=gettext_lazy("现行（审核通过）版本号"))
    open = serializers.IntegerField(allow_null=True, help_text=gettext_lazy("正在办理的版本号"))
    versions = TargetSetSerializer(many=True)


# -- input -----------------------------------------------------------------------------


class TargetRowWriteSerializer(serializers.Serializer):
    """A row as filed. With ``indicator`` (a library indicator the project may pick) its
    levels, name, direction and unit come from the library; otherwise they are required.
    Quantitative rows (gte / lte / eq) need ``target_value`` and ``unit``; qualitative rows
    ``target_text``."""

    indicator = IdField(required=False, allow_null=True, default=None)
    level1 = serializers.ChoiceField(choices=IndicatorLevel1.choices, required=False, allow_blank=True)
    level2 = serializers.ChoiceField(choices=IndicatorLevel2.choices, required=False, allow_blank=True)
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    direction = serializers.ChoiceField(choices=Direction.choices, required=False, allow_blank=True)
    target_value = serializers.DecimalField(max_digits=18, decimal_places=4, required=False, allow_null=True)
    target_text = serializers.CharField(required=False, allow_blank=True, max_length=200)
    unit = serializers.CharField(required=False, allow_blank=True, max_length=32)
    weight = serializers.DecimalField(max_digits=5, decimal_places=2, required=False, allow_null=True)


class TargetSetWriteSerializer(serializers.Serializer):
    """The whole draft: its rows replace the saved ones."""

    overall_goal = serializers.CharField(allow_blank=True, max_length=5000)
    change_reason = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, default=None, help_text=gettext_lazy("变更版本的变更理由")
    )
    rows = TargetRowWriteSerializer(many=True, allow_empty=True)
    revision = IdField(
        required=False, allow_null=True, default=None, max_value=MAX_INT, help_text=gettext_lazy("编辑开始时的修订号")
    )


class TargetDeptReviewSerializer(serializers.Serializer):
    approve = serializers.BooleanField(help_text=gettext_lazy("true 审核通过；false 退回修改（须填写理由）"))
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class TargetRowEditSerializer(serializers.Serializer):
    """The agreed edits of one row (any of the four; only with 良)."""

    target_value = serializers.CharField(required=False, allow_blank=True, max_length=40)
    target_text = serializers.CharField(required=False, allow_blank=True, max_length=200)
    unit = serializers.CharField(required=False, allow_blank=True, max_length=32)
    weight = serializers.CharField(required=False, allow_blank=True, max_length=12)


def _positions(value: dict) -> dict[int, Any]:
    """A mapping keyed by row position (JSON keys are strings) → keyed by int."""
    out: dict[int, Any] = {}
    for key, item in value.items():
        try:
            position = int(key)
        except (TypeError, ValueError):
            position = 0
        if position < 1:
            raise serializers.ValidationError(_("行号「%(key)s」应为从 1 起的整数。") % {"key": key})
        out[position] = item
    return out


class TargetRateSerializer(serializers.Serializer):
    rating = serializers.ChoiceField(choices=TargetRating.choices)
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=5000, help_text=gettext_lazy("评为良、中、差时必填")
    )
    row_comments = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=2000),
        required=False,
        default=dict,
        help_text=gettext_lazy("逐项审核意见：行序号 → 意见"),
    )
    edits = serializers.DictField(
        child=TargetRowEditSerializer(),
        required=False,
        default=dict,
        help_text=gettext_lazy("评为「良」时商定的修改：行序号 → 修改的字段"),
    )

    def validate_row_comments(self, value):
        return _positions(value)

    def validate_edits(self, value):
        return {k: dict(v) for k, v in _positions(value).items()}


class TargetChangeSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


# -- views -----------------------------------------------------------------------------

ACTION_ERRORS = {400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}
READ_ERRORS = {403: FORBIDDEN, 404: NOT_FOUND}


def _valid(serializer_class, data) -> dict:
    body = serializer_class(data=data)
    if not body.is_valid():
        raise exceptions.ValidationError(flat_errors(body.errors))
    return body.validated_data


def _versions(project: BudgetProject):
    return (
        TargetSet.objects.filter(project=project)
        .select_related("created_by", "rated_by")
        .prefetch_related(Prefetch("rows", queryset=TargetRow.objects.select_related("indicator")))
        .order_by("-number")
    )


def _version(project: BudgetProject, number: int) -> TargetSet:
    return get_object_or_404(_versions(project), number=number)


def _answer(request, target_set: TargetSet, code: int = status.HTTP_200_OK) -> Response:
    """The version as it now stands (re-read: the service may have changed its rows)."""
    fresh = _versions(target_set.project).get(pk=target_set.pk)
    return Response(TargetSetSerializer(fresh, context={"request": request}).data, status=code)


class ProjectTargetsViewSet(viewsets.ViewSet):
    """A project's targets: every version with its rows, and each person's action on a version.

    Not routed by a router: workflows/api_urls.py maps each method on its path under
    /api/projects/{id}/targets/ (``pk`` is the project's id, ``number`` the version's).
    Every method first finds the project as its reader may (``project_get_for``: 404
    otherwise); the services check who may act.
    """

    @extend_schema(
        operation_id="project_targets",
        summary=gettext_lazy("项目的绩效目标（全部版本）"),
        responses={200: ProjectTargetsSerializer, **READ_ERRORS},
    )
    def versions(self, request, pk: int):  # not "list": that would be a list of these objects
        """A project's targets: every version with its rows, which one is in force and which open."""
        project = project_get_for(request.user, pk)
        versions = list(_versions(project))
        in_force = next((v.number for v in versions if v.status == TargetSetStatus.APPROVED), None)
        open_number = next((v.number for v in versions if v.status in TARGET_SET_OPEN), None)
        return Response(
            ProjectTargetsSerializer(
                {"project": project.pk, "in_force": in_force, "open": open_number, "versions": versions},
                context={"request": request},
            ).data
        )

    @extend_schema(
        operation_id="project_targets_draft",
        summary=gettext_lazy("填报绩效目标（部门经办人）"),
        description=gettext_lazy(
            "项目尚无绩效目标时新建第 1 版草稿（201）；已有正在填报的版本时返回该版本（200）。"
            "已有审核通过的目标时请提出变更申请。"
        ),
        request=None,
        responses={200: TargetSetSerializer, 201: TargetSetSerializer, **ACTION_ERRORS},
    )
    def draft(self, request, pk: int):
        """The department starts filing the first version (or gets the one being filed)."""
        project = project_get_for(request.user, pk)
        existed = target_set_open_for(project) is not None
        target_set = target_draft_open(project=project, actor=request.user)
        return _answer(request, target_set, status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="project_targets_change",
        summary=gettext_lazy("申请变更绩效目标（部门经办人，需理由）"),
        description=gettext_lazy("新建一个复制自现行目标的版本，修改后按原程序审核；审核通过前现行目标继续有效。"),
        request=TargetChangeSerializer,
        responses={201: TargetSetSerializer, **ACTION_ERRORS},
    )
    def change(self, request, pk: int):
        """A change request (变更) to the targets in force: a new version to edit and submit."""
        project = project_get_for(request.user, pk)
        data = _valid(TargetChangeSerializer, request.data)
        target_set = targets_change_request(project=project, actor=request.user, reason=data["reason"])
        return _answer(request, target_set, status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="project_target",
        summary=gettext_lazy("绩效目标的一个版本"),
        responses={200: TargetSetSerializer, **READ_ERRORS},
    )
    def retrieve(self, request, pk: int, number: int):
        """One version: read it; save it as a draft (department staff, while it is editable)."""
        version = _version(project_get_for(request.user, pk), number)
        return Response(TargetSetSerializer(version, context={"request": request}).data)

    @extend_schema(
        operation_id="project_target_save",
        summary=gettext_lazy("保存绩效目标草稿（部门经办人）"),
        description=gettext_lazy(
            "以提交的指标行替换已保存的全部指标行。指标行错误以 rows.<序号-1>.<字段> 为键返回；"
            "权重合计等完整性要求在提交审核时检查。带上 revision 时，若草稿已被他人修改则返回 409。"
        ),
        request=TargetSetWriteSerializer,
        responses={200: TargetSetSerializer, **ACTION_ERRORS},
    )
    def save(self, request, pk: int, number: int):
        """Save a version as a draft (department staff, while it is editable)."""
        target_set = _version(project_get_for(request.user, pk), number)
        data = _valid(TargetSetWriteSerializer, request.data)
        target_set = target_set_save(
            target_set=target_set,
            actor=request.user,
            overall_goal=data["overall_goal"],
            rows=[dict(row) for row in data["rows"]],
            change_reason=data["change_reason"],
            revision=data["revision"],
        )
        return _answer(request, target_set)

    @extend_schema(
        operation_id="project_target_submit",
        summary=gettext_lazy("提交绩效目标审核（部门经办人）"),
        description=gettext_lazy("检查完整性（总体目标、权重合计、必备的一级指标；变更须有理由）后报部门负责人审核。"),
        request=None,
        responses={200: TargetSetSerializer, **ACTION_ERRORS},
    )
    def submit(self, request, pk: int, number: int):
        """Department staff submit the version to their leader."""
        target_set = _version(project_get_for(request.user, pk), number)
        return _answer(request, targets_submit(target_set=target_set, actor=request.user))

    @extend_schema(
        operation_id="project_target_dept_review",
        summary=gettext_lazy("部门审核绩效目标（部门负责人）"),
        request=TargetDeptReviewSerializer,
        responses={200: TargetSetSerializer, **ACTION_ERRORS},
    )
    def dept_review(self, request, pk: int, number: int):
        """The department leader passes the version to the finance section or returns it."""
        target_set = _version(project_get_for(request.user, pk), number)
        data = _valid(TargetDeptReviewSerializer, request.data)
        return _answer(
            request,
            targets_dept_review(
                target_set=target_set, actor=request.user, approve=data["approve"], comment=data["comment"]
            ),
        )

    @extend_schema(
        operation_id="project_target_rate",
        summary=gettext_lazy("评定绩效目标审核等次（财政绩效科）"),
        description=gettext_lazy(
            "优：直接通过；良：按 edits 修改后通过（修改前后记录在各行的 edits 中）；中：退回部门修改后重新提交；"
            "差：不予通过（首次填报的项目不予纳入预算）。edits 只能与「良」一起提交。"
        ),
        request=TargetRateSerializer,
        responses={200: TargetSetSerializer, **ACTION_ERRORS},
    )
    def rate(self, request, pk: int, number: int):
        """The finance section rates the version 优 / 良 / 中 / 差."""
        target_set = _version(project_get_for(request.user, pk), number)
        data = _valid(TargetRateSerializer, request.data)
        return _answer(request, targets_rate(target_set=target_set, actor=request.user, **data))
