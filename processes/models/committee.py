"""人大常委会审议意见 (issue 19): the standing committee's review opinions on a year's
performance report, split into items each assigned to the finance bureau or to a department
with a deadline; the assignee responds with a text and evidence files, and the finance
section accepts the response or returns it with a reason (docs/processes/committee-opinions.md,
decision 0026)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from accounts.roles import Role

from ..files import private_storage
from ..notices import committee as notices
from ..permissions import committee as perms
from ..states import OPINION_ITEM_OPEN, OpinionItemStatus
from ..transitions import declare
from .rectification import EvidenceFile


class CommitteeOpinion(models.Model):
    """审议意见: what the committee said at its session about one year's report."""

    fiscal_year = models.PositiveSmallIntegerField(
        _("报告年度"), db_index=True, validators=[MinValueValidator(1990), MaxValueValidator(2100)]
    )
    title = models.CharField(_("审议意见标题"), max_length=200)
    text = models.TextField(_("审议意见"))
    session_date = models.DateField(_("审议会议日期"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("录入人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("人大审议意见")
        verbose_name_plural = pgettext_lazy("plural", "人大审议意见")
        ordering = ["-fiscal_year", "session_date", "pk"]
        permissions = [
            ("record_committee_opinion", _("录入人大审议意见、验收落实情况")),
            ("respond_committee_opinion", _("报送审议意见落实情况")),
            ("read_committee_opinions", _("查看审议意见落实情况")),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("reports:committee_opinions", args=[self.fiscal_year])


class CommitteeOpinionItem(ConcurrentTransitionMixin, models.Model):
    """One item of an opinion, assigned to a department (or, ``department`` empty, to the
    finance bureau) with a deadline, and the assignee's response."""

    opinion = models.ForeignKey(CommitteeOpinion, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(_("序号"))
    requirement = models.TextField(_("审议意见事项"))
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("承办部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="committee_items",
        help_text=_("留空表示由财政局承办。"),
    )
    deadline = models.DateTimeField(_("办理期限"), db_index=True)
    status = FSMField(
        _("状态"),
        max_length=12,
        choices=OpinionItemStatus.choices,
        default=OpinionItemStatus.ASSIGNED,
        protected=True,
    )
    response = models.TextField(_("落实情况"), blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报送人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    responded_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("验收人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    accepted_at = models.DateTimeField(_("验收时间"), null=True, blank=True)
    review_comment = models.TextField(_("验收意见"), blank=True)
    returns = models.PositiveSmallIntegerField(_("退回次数"), default=0)
    created_at = models.DateTimeField(_("交办时间"), auto_now_add=True)
    revision = models.PositiveIntegerField(_("修订号"), default=1)

    #: joined when the engine locks the row: the notices name the opinion and the assignee
    lock_related = ("opinion", "department")

    class Meta:
        verbose_name = _("审议意见事项")
        verbose_name_plural = pgettext_lazy("plural", "审议意见事项")
        ordering = ["opinion_id", "position"]
        indexes = [models.Index(fields=["status", "deadline"], name="committee_item_board")]
        constraints = [
            models.UniqueConstraint(fields=["opinion", "position"], name="committee_item_position"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("workflows:committee_item", args=[self.pk])

    @property
    def title(self) -> str:
        return f"{self.opinion.title}（{self.position}）"

    @property
    def assignee_name(self) -> str:
        department = self.department  # no query when there is none
        return department.name if department is not None else _gettext("财政局")

    @property
    def is_open(self) -> bool:
        return self.status in OPINION_ITEM_OPEN

    def audit_detail(self) -> dict:
        return {"opinion": self.opinion_id, "department": self.department_id, "fiscal_year": self.opinion.fiscal_year}

    @transition(
        field=status,
        source=OpinionItemStatus.ASSIGNED,
        target=OpinionItemStatus.RESPONDED,
        permission=perms.may_respond,
        custom=declare(
            _("报送落实情况"),
            roles=[Role.DEPT_STAFF, Role.DEPT_LEADER, Role.FINANCE_OFFICER],
            tells=notices.responded,
            audit="committee_item_respond",
        ),
    )
    def respond(self, *, response: str) -> None:
        self.response = response

    @transition(
        field=status,
        source=OpinionItemStatus.RESPONDED,
        target=OpinionItemStatus.ACCEPTED,
        permission=perms.may_review,
        custom=declare(
            _("验收落实情况"), roles=[Role.FINANCE_OFFICER], tells=notices.accepted, audit="committee_item_accept"
        ),
    )
    def accept(self, *, comment: str = "") -> None:
        self.review_comment = comment

    @transition(
        field=status,
        source=OpinionItemStatus.RESPONDED,
        target=OpinionItemStatus.ASSIGNED,
        permission=perms.may_review,
        custom=declare(
            _("退回落实情况"),
            roles=[Role.FINANCE_OFFICER],
            tells=notices.sent_back,
            needs_reason=_("退回落实情况时请说明理由。"),
            style="danger",
            audit="committee_item_send_back",
        ),
    )
    def send_back(self, *, comment: str) -> None:
        self.review_comment = comment
        self.returns += 1


class CommitteeEvidence(EvidenceFile):
    """佐证材料 of one item's response (the rectification's conventions)."""

    item = models.ForeignKey(CommitteeOpinionItem, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(_("文件"), storage=private_storage, upload_to="committee/%Y/")

    class Meta(EvidenceFile.Meta):
        verbose_name = _("审议意见佐证材料")
        verbose_name_plural = pgettext_lazy("plural", "审议意见佐证材料")
