"""The project API's base: list, create, detail and draft edits, with the serializers of a
project. Views read through selectors and write through services; they never touch a
model's fields themselves. ``workflows.api.ProjectViewSet`` adds the stage actions and the
flow's current task; it is what /api/projects/ routes to (decision 0022: every lifecycle's
API lives in workflows).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from processes.api.fields import FiscalYearField, IdField
from processes.api.responses import BAD_REQUEST, CONFLICT, FORBIDDEN, NOT_FOUND
from processes.api.serializers import AvailableActionSerializer
from processes.models import BudgetProject
from processes.numbers import MAX_INT
from processes.results import PastResult, ResultsApplication, results_for, results_visible_to
from processes.selectors import project_filter, project_get_for, project_list_for, project_timeline
from processes.services.projects import EDITABLE_FIELDS, available_transitions, project_create, project_update
from processes.states import ProjectStage, state_label


def _person(user) -> str | None:
    return str(user) if user is not None else None


# -- output ----------------------------------------------------------------------------


class TimelineEventSerializer(serializers.Serializer):
    """One audit event of the project, oldest first (``processes.selectors.project_timeline``)."""

    sequence = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    actor = serializers.SerializerMethodField()
    actor_role = serializers.CharField()
    object_type = serializers.CharField(help_text="processes.budgetproject, or processes.targetset for its targets")
    action = serializers.CharField()
    from_state = serializers.CharField()
    from_state_display = serializers.SerializerMethodField()
    to_state = serializers.CharField()
    to_state_display = serializers.SerializerMethodField()
    comment = serializers.CharField()

    def get_actor(self, event) -> str:
        return _person(event.actor) or event.actor_username

    def get_from_state_display(self, event) -> str:
        return state_label(event.object_type, event.from_state)

    def get_to_state_display(self, event) -> str:
        return state_label(event.object_type, event.to_state)


class PastResultSerializer(serializers.Serializer):
    """An earlier year's project of the same department and its grade of record, with the
    settings' recommendation for the next budget (结果应用, ``processes.results.PastResult``)."""

    project = serializers.IntegerField(source="project.pk", help_text="the earlier year's project id")
    fiscal_year = serializers.IntegerField(source="year")
    code = serializers.CharField()
    name = serializers.CharField()
    grade = serializers.CharField(help_text="excellent 优 | good 良 | fair 中 | poor 差")
    grade_display = serializers.CharField(source="grade_label")
    score = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    grade_source = serializers.CharField(
        source="source",
        help_text="key | recheck | self: a finished key evaluation, else a final re-check, "
        "else an accepted self-evaluation",
    )
    grade_source_display = serializers.CharField(source="source_label")
    recommendation = serializers.CharField(source="recommendation.text", help_text="e.g. 压减预算 10%")
    recommendation_action = serializers.CharField(
        source="recommendation.action", help_text="priority | keep | cut | cancel (settings, by grade)"
    )
    cut_percent = serializers.DecimalField(source="recommendation.cut_percent", max_digits=5, decimal_places=2)


class SimilarFailedSerializer(PastResultSerializer):
    """An earlier one-off project of the department graded 差 whose name is like this one's."""

    similarity = serializers.FloatField(help_text="difflib ratio of the two names, 0–1")


class ProjectListSerializer(serializers.ModelSerializer):
    """A row of the project list. Reads only columns the list selector already joins."""

    department_name = serializers.CharField(source="department.name", read_only=True)
    category_display = serializers.CharField(source="get_category_display", read_only=True)
    recurrence_display = serializers.CharField(source="get_recurrence_display", read_only=True)
    stage_display = serializers.CharField(source="get_stage_display", read_only=True)

    class Meta:
        model = BudgetProject
        fields = [
            "id",
            "code",
            "name",
            "fiscal_year",
            "department",
            "department_name",
            "category",
            "category_display",
            "recurrence",
            "recurrence_display",
            "requested_amount",
            "approved_amount",
            "adjusted_amount",
            "executed_amount",
            "stage",
            "stage_display",
            "version",
            "updated_at",
        ]
        read_only_fields = fields


class ProjectDetailSerializer(ProjectListSerializer):
    """A project as its detail screen shows it: what the requesting user may do now, and its
    history. Needs ``request`` in the context. (The open workflow tasks are added by
    workflows.api, since processes never imports workflows.)"""

    created_by = serializers.SerializerMethodField()
    requires_pre_assessment = serializers.BooleanField(read_only=True)
    available_actions = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()
    last_result = serializers.SerializerMethodField(
        help_text="结果应用: the same code's most recent earlier graded year in the department, "
        "with the budget recommendation; null when none (or for reviewers outside the department)"
    )
    similar_failed = serializers.SerializerMethodField(
        help_text="结果应用: earlier one-off projects of the department graded 差 with a similar name (a warning)"
    )

    class Meta(ProjectListSerializer.Meta):
        fields = [
            *ProjectListSerializer.Meta.fields,
            "overall_goal",
            "created_by",
            "created_at",
            "requires_pre_assessment",
            "available_actions",
            "timeline",
            "last_result",
            "similar_failed",
        ]
        read_only_fields = fields

    def get_created_by(self, project) -> str:
        return str(project.created_by)

    @extend_schema_field(AvailableActionSerializer(many=True))
    def get_available_actions(self, project):
        user = self.context["request"].user
        return AvailableActionSerializer(available_transitions(project, user), many=True).data

    @extend_schema_field(TimelineEventSerializer(many=True))
    def get_timeline(self, project):
        return TimelineEventSerializer(project_timeline(project), many=True).data

    #: (project id, its results application), so the two fields below read it once.
    _results_cache: tuple[int, ResultsApplication | None] | None = None

    def _results(self, project) -> ResultsApplication | None:
        """The department's earlier years; none for those who only see the project for a
        review (``processes.results.results_visible_to``)."""
        if self._results_cache is None or self._results_cache[0] != project.pk:
            user = self.context["request"].user
            found = results_for(project) if results_visible_to(user, project) else None
            self._results_cache = (project.pk, found)
        return self._results_cache[1]

    @extend_schema_field(PastResultSerializer(allow_null=True))
    def get_last_result(self, project):
        """上年度评价结果: the same code in the department's most recent earlier graded year."""
        results = self._results(project)
        last: PastResult | None = results.last if results else None
        return PastResultSerializer(last).data if last is not None else None

    @extend_schema_field(SimilarFailedSerializer(many=True))
    def get_similar_failed(self, project):
        """Earlier one-off projects of the department graded 差 with a similar name (a warning)."""
        results = self._results(project)
        return SimilarFailedSerializer(results.similar_failed if results else [], many=True).data


# -- input -----------------------------------------------------------------------------


class ProjectWriteSerializer(serializers.ModelSerializer):
    """What a department's staff may write on a draft: the editable fields, never the stage.

    Field rules (required, lengths, choices, amount ≥ 0.01) come from the model; the
    per-year code uniqueness is checked here too so it is reported on ``code`` (the
    service's own check stays the authority, e.g. for a concurrent duplicate).
    """

    class Meta:
        model = BudgetProject
        fields = list(EDITABLE_FIELDS)
        # The model's UniqueConstraint would give a non-field error; validate() names the field.
        validators: list = []

    def validate(self, attrs):
        # Fields outside the editable set (the stage above all) are refused, not silently dropped.
        unknown = set(getattr(self, "initial_data", {})) - set(self.fields) - {"csrfmiddlewaretoken"}
        if unknown:
            raise serializers.ValidationError({f: _("此字段不能通过接口写入。") for f in sorted(unknown)})
        instance = self.instance
        fiscal_year = attrs.get("fiscal_year", getattr(instance, "fiscal_year", None))
        code = attrs.get("code", getattr(instance, "code", None))
        if fiscal_year is not None and code:
            code = code.strip()
            clash = BudgetProject.objects.filter(fiscal_year=fiscal_year, code=code)
            if instance is not None:
                clash = clash.exclude(pk=instance.pk)
            if clash.exists():
                raise serializers.ValidationError(
                    {"code": _("%(year)s 年度已有编码为 %(code)s 的项目。") % {"year": fiscal_year, "code": code}}
                )
        return attrs


class ProjectCreateSerializer(ProjectWriteSerializer):
    pass


class ProjectUpdateSerializer(ProjectWriteSerializer):
    """A PATCH of a draft. ``version`` is the version the editor started from: if someone
    saved in between, the service answers 409 and nothing is changed."""

    version = IdField(required=False, max_value=MAX_INT)

    class Meta(ProjectWriteSerializer.Meta):
        fields = [*ProjectWriteSerializer.Meta.fields, "version"]


class TransitionSerializer(serializers.Serializer):
    """The body of a project action. ``comment`` is required by actions that need a reason
    (the service checks it and answers 400 on ``comment``)."""

    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ProjectFilterSerializer(serializers.Serializer):
    """Query parameters of the project list (``processes.selectors.project_filter``)."""

    stage = serializers.ChoiceField(choices=ProjectStage.choices, required=False)
    fiscal_year = FiscalYearField(required=False)
    department = IdField(required=False, help_text=_("部门 id"))
    q = serializers.CharField(required=False, allow_blank=True, help_text=_("按项目名称或编码搜索"))


def project_schema(detail_serializer) -> dict:
    """``extend_schema`` of each project endpoint, for ``extend_schema_view`` on a routed view."""
    return {
        "list": extend_schema(
            summary=_("项目列表"),
            parameters=[ProjectFilterSerializer],
            responses={200: ProjectListSerializer(many=True), 400: BAD_REQUEST, 403: FORBIDDEN},
        ),
        "create": extend_schema(
            summary=_("新建项目（部门经办人）"),
            request=ProjectCreateSerializer,
            responses={201: detail_serializer, 400: BAD_REQUEST, 403: FORBIDDEN},
        ),
        "retrieve": extend_schema(
            summary=_("项目详情"),
            responses={200: detail_serializer, 403: FORBIDDEN, 404: NOT_FOUND},
        ),
        "partial_update": extend_schema(
            summary=_("修改草稿项目"),
            description=_("只有本部门经办人可以修改草稿。带上 version 时，若项目已被他人修改则返回 409。"),
            request=ProjectUpdateSerializer,
            responses={200: detail_serializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
        ),
    }


class ProjectViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """预算项目. Lists are scoped by ``project_list_for``; another department's project is
    404, never 403 (which would confirm it exists)."""

    serializer_class = ProjectListSerializer
    detail_serializer_class = ProjectDetailSerializer
    lookup_value_converter = "id"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return project_list_for(self.request.user)

    def get_serializer_class(self):
        # The input serializer of the request's method, so the browsable API offers real forms.
        method = self.request.method if self.request is not None else "GET"
        if method == "POST" and self.action in ("list", "create"):
            return ProjectCreateSerializer
        if method == "PATCH":
            return ProjectUpdateSerializer
        return self.serializer_class

    def get_object(self):
        return project_get_for(self.request.user, self.kwargs[self.lookup_field])

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        filters = ProjectFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return project_filter(queryset, **filters.validated_data)

    def detail_response(self, project, status_code=status.HTTP_200_OK) -> Response:
        data = self.detail_serializer_class(project, context=self.get_serializer_context()).data
        return Response(data, status=status_code)

    def create(self, request, *args, **kwargs):
        body = ProjectCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        project = project_create(actor=request.user, **body.validated_data)
        return self.detail_response(project_get_for(request.user, project.pk), status.HTTP_201_CREATED)

    def retrieve(self, request, *args, **kwargs):
        return self.detail_response(self.get_object())

    def partial_update(self, request, *args, **kwargs):
        project = self.get_object()
        body = ProjectUpdateSerializer(project, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        changes = dict(body.validated_data)
        version = changes.pop("version", None)
        project = project_update(project=project, actor=request.user, version=version, **changes)
        return self.detail_response(project)
