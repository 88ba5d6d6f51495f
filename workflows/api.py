"""Workflow API: the project stage actions (each one completes or starts a flow step through
``workflows.services.project_act``), the project detail with its open tasks, and the
requesting user's task inbox.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action

from processes.api.responses import BAD_REQUEST, CONFLICT, FORBIDDEN, NOT_FOUND
from processes.api.serializers import AvailableActionSerializer
from processes.models import BudgetProject
from processes.services.projects import available_transitions

from . import project_api as project_views
from .nodes import task_due, task_title_of
from .project_api import ProjectDetailSerializer, TransitionSerializer
from .selectors import DEFAULT_SORT, KINDS, inbox_for, task_get_for, task_row
from .services import open_project_tasks, project_act
from .task_status import ASSIGNED

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# -- serializers -----------------------------------------------------------------------


def _person(user) -> str | None:
    return str(user) if user is not None else None


def _due_at(task) -> str | None:
    due = task_due(task)
    return serializers.DateTimeField().to_representation(due) if due else None


class CurrentTaskSerializer(serializers.Serializer):
    """An open task of a flow about the project: what it is, who holds it, when it is due."""

    id = serializers.IntegerField(read_only=True)
    title = serializers.SerializerMethodField()
    owner = serializers.SerializerMethodField(help_text=_("认领人；未认领时为 null（在队列中）"))
    due_at = serializers.SerializerMethodField()

    def get_title(self, task) -> str:
        return str(task_title_of(task))

    def get_owner(self, task) -> str | None:
        return _person(task.owner)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_due_at(self, task):
        return _due_at(task)


class ProjectFlowDetailSerializer(ProjectDetailSerializer):
    """The project detail plus its open workflow tasks."""

    current_tasks = serializers.SerializerMethodField()

    class Meta(ProjectDetailSerializer.Meta):
        fields = [*ProjectDetailSerializer.Meta.fields, "current_tasks"]
        read_only_fields = fields

    @extend_schema_field(CurrentTaskSerializer(many=True))
    def get_current_tasks(self, project):
        return CurrentTaskSerializer(open_project_tasks(project), many=True).data


class TaskProjectSerializer(serializers.ModelSerializer):
    department_name = serializers.CharField(source="department.name", read_only=True)

    class Meta:
        model = BudgetProject
        fields = ["id", "code", "name", "department", "department_name"]
        read_only_fields = fields


class InboxObjectSerializer(serializers.Serializer):
    """What a waiting step is about."""

    type = serializers.CharField(
        help_text=_(
            "project（流程任务，预算项目）、recheck（复核）、commissioned_evaluation（委托评价）、"
            "panel_review（专家评审席位）、rectification（整改）、extension（整改延期申请）、"
            "pre_assessment_start（待发起的事前绩效评估）、execution_start（待下达预算的项目）、"
            "committee_item（人大审议意见事项）"
        )
    )
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()


class TaskSerializer(serializers.Serializer):
    """A row of the user's inbox (workflows.selectors.InboxRow): a flow task (``kind`` = task)
    or a state-machine step (``kind`` = step), with the same columns. A task also carries the
    project actions that complete it and that the user may take now (the node's ``actions`` ∩
    ``available_transitions``); a step is done on its page (``url``)."""

    # strings, not enums: a "kind" or "status" enum would collide with the other components'
    # (see processes/api/commissioned.py)
    kind = serializers.CharField(
        read_only=True,
        help_text=_("task：流程任务（可用 /api/tasks/{id}/ 查询）；step：评价、整改等状态机事项（在 url 页面办理）"),
    )
    key = serializers.CharField(read_only=True, help_text=_("在待办列表中唯一，如 task-12、recheck-5"))
    id = serializers.SerializerMethodField(help_text=_("流程任务的编号；状态机事项为 null（见 object）"))
    title = serializers.CharField(read_only=True, help_text=_("任务名称，或事项类别（复核、整改等）"))
    action = serializers.CharField(read_only=True, help_text=_("需办理的操作，如「复核评分」"))
    object = serializers.SerializerMethodField()
    project = serializers.SerializerMethodField(help_text=_("相关预算项目；部门整体评价等无项目时为 null"))
    department_name = serializers.CharField(source="department", read_only=True)
    status = serializers.SerializerMethodField(
        help_text=_("NEW：待办理（在队列中，有权限者均可办理）；ASSIGNED：已指派给 owner")
    )
    owner = serializers.SerializerMethodField(help_text=_("认领人；未认领时为 null"))
    created_at = serializers.DateTimeField(source="created", read_only=True, allow_null=True)
    due_at = serializers.DateTimeField(source="due", read_only=True, allow_null=True)
    url = serializers.CharField(read_only=True, help_text=_("办理页面的地址"))
    available_actions = serializers.SerializerMethodField()

    def get_id(self, row) -> int | None:
        return row.task.pk if row.task is not None else None

    @extend_schema_field(InboxObjectSerializer)
    def get_object(self, row):
        return {"type": row.object_type, "id": row.object_id, "name": row.subject}

    @extend_schema_field(TaskProjectSerializer(allow_null=True))
    def get_project(self, row):
        return TaskProjectSerializer(row.project).data if row.project is not None else None

    def get_status(self, row) -> str:
        if row.task is not None:
            return row.task.status
        return "ASSIGNED" if row.state == ASSIGNED else "NEW"

    def get_owner(self, row) -> str | None:
        return _person(row.owner)

    @extend_schema_field(AvailableActionSerializer(many=True))
    def get_available_actions(self, row):
        if row.task is None:
            return []
        completes = getattr(row.task.flow_task, "actions", ())
        user = self.context["request"].user
        specs = [s for s in available_transitions(row.project, user) if s.name in completes]
        return AvailableActionSerializer(specs, many=True).data


# -- project actions -------------------------------------------------------------------


ACTION_DESCRIPTION = _(
    "执行项目操作，成功时返回项目详情。需要理由的操作（退回、撤回、取消）必须填写 comment，否则返回 400"
    "（字段 comment）。角色不符返回 403；项目不在可见范围内返回 404；当前阶段不允许或已被他人办理返回 409。"
)


def project_action(attr: str, *, transition: str, url_path: str, summary: StrOrPromise):
    """A POST /api/projects/{id}/{url_path}/ endpoint doing the transition ``transition``.

    ``attr`` is the view attribute it is bound to (DRF requires it to be the method name).
    """

    def act(self, request, pk=None):
        project = self.get_object()  # 404 outside the user's visibility
        body = TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        project = project_act(
            project=project, actor=request.user, action=transition, comment=body.validated_data["comment"]
        )
        return self.detail_response(project)

    act.__name__ = attr
    act.__qualname__ = f"ProjectViewSet.{attr}"
    act = action(detail=True, methods=["post"], url_path=url_path, url_name=url_path.replace("_", "-"))(act)
    return extend_schema(
        summary=summary,
        description=ACTION_DESCRIPTION,
        request=TransitionSerializer,
        responses={200: ProjectFlowDetailSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
    )(act)


@extend_schema_view(**project_views.project_schema(ProjectFlowDetailSerializer))
class ProjectViewSet(project_views.ProjectViewSet):
    """预算项目, with the stage actions a person may take (DESIGN §3.1)."""

    detail_serializer_class = ProjectFlowDetailSerializer

    def get_serializer_class(self):
        if self.action in {a.__name__ for a in self.get_extra_actions()}:  # the stage actions
            return TransitionSerializer
        return super().get_serializer_class()

    submit = project_action("submit", transition="submit", url_path="submit", summary=_("提交（经办人）"))
    approve = project_action(
        "approve", transition="approve", url_path="approve", summary=_("部门审核通过（部门负责人）")
    )
    send_back = project_action(
        "send_back", transition="send_back", url_path="send_back", summary=_("退回修改（部门负责人，需理由）")
    )
    return_ = project_action(
        "return_", transition="send_back", url_path="return", summary=_("退回修改（send_back 的别名）")
    )
    route_to_pre_assessment = project_action(
        "route_to_pre_assessment",
        transition="route_to_pre_assessment",
        url_path="route_to_pre_assessment",
        summary=_("转事前绩效评估（财政绩效科）"),
    )
    route_to_target_review = project_action(
        "route_to_target_review",
        transition="route_to_target_review",
        url_path="route_to_target_review",
        summary=_("转绩效目标审核（财政绩效科，送审金额低于事前评估门槛）"),
    )
    start_execution = project_action(
        "start_execution",
        transition="start_execution",
        url_path="start_execution",
        summary=_("下达预算，开始执行（财政绩效科，已批复预算的项目）"),
    )
    withdraw = project_action(
        "withdraw", transition="withdraw", url_path="withdraw", summary=_("撤回（本部门，需理由）")
    )
    cancel = project_action(
        "cancel", transition="cancel", url_path="cancel", summary=_("取消项目（财政绩效科，需理由）")
    )
    close_out = project_action(
        "close_out",
        transition="close_out",
        url_path="close_out",
        summary=_("年度关账（财政绩效科，已评价且无未下达问题、无未销号整改的项目）"),
    )


# -- task inbox ------------------------------------------------------------------------

#: ``?ordering=`` of the task list → the inbox's sort (workflows.selectors.INBOX_SORTS)
TASK_ORDERING = {"due_at": "due", "-due_at": "-due", "created": "created"}


@extend_schema_view(
    list=extend_schema(
        summary=_("我的待办"),
        description=_(
            "当前用户的全部待办：流程任务（kind=task，指派给本人或本人有权办理的队列任务）与评价、整改等状态机事项"
            "（kind=step，轮到本人或本单位办理的复核、委托评价、整改、延期申请、人大审议意见、项目下一步），同一组字段，"
            "可见范围与各自页面相同。默认按办理期限排序，无期限的排在最后。"
        ),
        parameters=[
            OpenApiParameter(
                "ordering",
                str,
                enum=list(TASK_ORDERING),
                description=_(
                    "排序：due_at（默认，按办理期限从早到晚）、-due_at（从晚到早），无期限的均排在最后；"
                    "created（按创建时间）"
                ),
            ),
            OpenApiParameter(
                "kind",
                str,
                enum=list(KINDS),
                description=_("只列一类：task（流程任务）或 step（状态机事项）；缺省为两类都列"),
            ),
        ],
        responses={200: TaskSerializer(many=True), 403: FORBIDDEN},
    ),
    retrieve=extend_schema(
        summary=_("待办详情"),
        description=_("流程任务的详情（kind=task 的 id）；状态机事项在其 url 页面查看和办理。"),
        responses={
            200: TaskSerializer,
            403: FORBIDDEN,
            404: OpenApiResponse(description=_("任务不存在，或不在您的待办中。")),
        },
    ),
)
class TaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The requesting user's inbox (workflows.selectors.inbox_for): flow tasks assigned to
    them or queued for a permission they hold on a project they may see, and the
    state-machine steps that are theirs. Act on a task through its project's action
    endpoints, on a step through its record's endpoints."""

    serializer_class = TaskSerializer
    lookup_value_converter = "id"

    def get_queryset(self):
        params = self.request.query_params
        sort = TASK_ORDERING.get(params.get("ordering", ""), DEFAULT_SORT)
        kind = params.get("kind", "")
        return inbox_for(self.request.user, sort=sort, kind=kind if kind in KINDS else "")

    def get_object(self):
        return task_row(task_get_for(self.request.user, self.kwargs[self.lookup_field]))
