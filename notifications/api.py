"""The requesting user's notifications: list (optionally unread only), mark one or all read.

Texts are rendered in the request's active language (``Notification.text``). Another
user's notification is 404. Marking read goes through ``notification_mark_read``.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .models import Notification
from .selectors import notification_list_for
from .services import notification_mark_read, unread_count

NOT_FOUND = OpenApiResponse(description=_("通知不存在，或不是您的通知。"))
NOT_LOGGED_IN = OpenApiResponse(description=_("未登录。"))


class NotificationSerializer(serializers.ModelSerializer):
    text = serializers.CharField(read_only=True, help_text=_("按请求语言显示的通知内容"))
    read = serializers.BooleanField(source="is_read", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "text", "url", "created_at", "read", "read_at"]
        read_only_fields = fields


class NotificationFilterSerializer(serializers.Serializer):
    unread = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text=_("true：只列未读；false：只列已读")
    )


MarkedSerializer = inline_serializer(
    "NotificationsMarkedRead",
    fields={"marked": serializers.IntegerField(), "unread": serializers.IntegerField()},
)


@extend_schema_view(
    list=extend_schema(
        summary=_("我的通知"),
        parameters=[NotificationFilterSerializer],
        responses={200: NotificationSerializer(many=True), 403: NOT_LOGGED_IN},
    ),
    retrieve=extend_schema(
        summary=_("通知详情"), responses={200: NotificationSerializer, 403: NOT_LOGGED_IN, 404: NOT_FOUND}
    ),
)
class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = NotificationSerializer
    lookup_value_converter = "id"

    def get_queryset(self):
        user = self.request.user
        if not user.is_authenticated:
            return Notification.objects.none()
        if self.action != "list":
            return notification_list_for(user)
        filters = NotificationFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return notification_list_for(user, unread=filters.validated_data["unread"])

    @extend_schema(
        summary=_("标记为已读"),
        request=None,
        responses={200: NotificationSerializer, 403: NOT_LOGGED_IN, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="read", url_name="read")
    def read(self, request, pk=None):
        note = self.get_object()  # 404 unless it is the user's own
        notification_mark_read(user=request.user, notification_id=note.pk)
        note.refresh_from_db()
        return Response(self.get_serializer(note).data)

    @extend_schema(summary=_("全部标记为已读"), request=None, responses={200: MarkedSerializer, 403: NOT_LOGGED_IN})
    @action(detail=False, methods=["post"], url_path="read-all", url_name="read-all")
    def read_all(self, request):
        marked = notification_mark_read(user=request.user)
        return Response({"marked": marked, "unread": unread_count(request.user)})
