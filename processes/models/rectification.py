"""整改 (DESIGN §3.6): a rectification notice issued to a department for one or more
findings, the department's report per finding with its evidence, and deadline extensions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from accounts.roles import Role

from ..files import private_storage
from ..notices import rectification as notices
from ..permissions import rectification as perms
from ..states import RECTIFICATION_OPEN, ExtensionStatus, ItemProgress, RectificationStatus
from ..transitions import declare
from .evaluation import Finding
from .project import BudgetProject


class Rectification(ConcurrentTransitionMixin, models.Model):
    """整改通知: the findings of one evaluation (or monitoring report) that one department
    must rectify by a deadline. The deadline in force is ``deadline``; the one first set is
    kept in ``original_deadline`` and every move in the extensions."""

    department = models.ForeignKey(
        "accounts.Department", verbose_name=_("预算部门"), on_delete=models.PROTECT, related_name="rectifications"
    )
    project = models.ForeignKey(
        BudgetProject,
        verbose_name=_("预算项目"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rectifications",
    )
    title = models.CharField(_("整改事项"), max_length=200)
    status = FSMField(
        _("状态"),
        max_length=16,
        choices=RectificationStatus.choices,
        default=RectificationStatus.ISSUED,
        protected=True,
    )
    deadline = models.DateTimeField(_("整改期限"), db_index=True)
    original_deadline = models.DateTimeField(_("原定整改期限"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("下达人"), on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("下达时间"), auto_now_add=True)
    acknowledged_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("验收人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    verified_at = models.DateTimeField(_("销号时间"), null=True, blank=True)
    review_comment = models.TextField(_("验收意见"), blank=True)
    rejections = models.PositiveSmallIntegerField(_("退回次数"), default=0)
    revision = models.PositiveIntegerField(_("修订号"), default=1)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    #: joined when the engine locks the row: the notices name the department
    lock_related = ("department", "project")

    class Meta:
        verbose_name = _("整改")
        verbose_name_plural = pgettext_lazy("plural", "整改")
        ordering = ["deadline", "pk"]
        indexes = [models.Index(fields=["status", "deadline"], name="rectification_board")]
        permissions = [
            ("issue_rectification", _("下达整改、验收整改")),
            ("fill_rectification", _("填报整改报告")),
            ("decide_extension", _("审批整改延期")),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("workflows:rectification_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in RECTIFICATION_OPEN

    def audit_detail(self) -> dict:
        return {"department": self.department_id, "project": self.project_id}

    @transition(
        field=status,
        source=RectificationStatus.ISSUED,
        target=RectificationStatus.ACKNOWLEDGED,
        permission=perms.may_fill,
        custom=declare(
            _("签收整改通知"),
            roles=[Role.DEPT_STAFF, Role.DEPT_LEADER],
            tells=notices.acknowledged,
            audit="rectification_acknowledge",
        ),
    )
    def acknowledge(self) -> None:
        pass

    @transition(
        field=status,
        source=RectificationStatus.ACKNOWLEDGED,
        target=RectificationStatus.SUBMITTED,
        permission=perms.may_fill,
        custom=declare(
            _("提交整改报告"),
            roles=[Role.DEPT_STAFF, Role.DEPT_LEADER],
            tells=notices.submitted,
            audit="rectification_submit",
        ),
    )
    def submit(self) -> None:
        pass

    @transition(
        field=status,
        source=RectificationStatus.SUBMITTED,
        target=RectificationStatus.VERIFIED,
        permission=perms.may_review,
        custom=declare(
            _("验收销号"), roles=[Role.FINANCE_OFFICER], tells=notices.verified, audit="rectification_verify"
        ),
    )
    def verify(self, *, comment: str = "") -> None:
        self.review_comment = comment

    @transition(
        field=status,
        source=RectificationStatus.SUBMITTED,
        target=RectificationStatus.ACKNOWLEDGED,
        permission=perms.may_review,
        custom=declare(
            _("退回整改报告"),
            roles=[Role.FINANCE_OFFICER],
            tells=notices.rejected,
            needs_reason=True,
            style="danger",
            audit="rectification_reject",
        ),
    )
    def reject(self, *, comment: str) -> None:
        self.review_comment = comment
        self.rejections += 1


class RectificationItem(models.Model):
    """One finding of a notice, and the department's report on it: the measure taken, who was
    responsible, when it was completed, and how far (done / partly / not done)."""

    rectification = models.ForeignKey(Rectification, on_delete=models.CASCADE, related_name="items")
    finding = models.OneToOneField(
        Finding, verbose_name=_("评价发现问题"), on_delete=models.PROTECT, related_name="rectification_item"
    )
    position = models.PositiveSmallIntegerField(_("序号"))
    problem = models.TextField(_("存在问题"))
    basis = models.TextField(_("依据"), blank=True)
    requirement = models.TextField(_("整改要求"))
    measure = models.TextField(_("整改措施"), blank=True)
    responsible = models.CharField(_("责任人"), max_length=64, blank=True)
    completed_on = models.DateField(_("完成时间"), null=True, blank=True)
    progress = models.CharField(_("整改情况"), max_length=12, choices=ItemProgress.choices, blank=True)

    class Meta:
        verbose_name = _("整改问题")
        verbose_name_plural = pgettext_lazy("plural", "整改问题")
        ordering = ["rectification_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["rectification", "position"], name="rectification_item_position")
        ]

    def __str__(self) -> str:
        return self.problem[:60]


class EvidenceFile(models.Model):
    """A file uploaded as evidence (佐证材料): a PDF, image or Office file, checked by content
    (``files.check_upload``), kept outside the web root and served only to those who may see
    what it supports. A concrete model adds the ``item`` it belongs to and its ``file``'s
    folder."""

    file = models.FileField(_("文件"), storage=private_storage)
    name = models.CharField(_("文件名"), max_length=200)
    kind = models.CharField(_("类型"), max_length=8)
    size = models.PositiveIntegerField(_("大小（字节）"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["item_id", "pk"]

    def __str__(self) -> str:
        return self.name


class Evidence(EvidenceFile):
    """佐证材料 of one rectification item."""

    item = models.ForeignKey(RectificationItem, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(_("文件"), storage=private_storage, upload_to="rectifications/%Y/")

    class Meta(EvidenceFile.Meta):
        verbose_name = _("佐证材料")
        verbose_name_plural = pgettext_lazy("plural", "佐证材料")


class DeadlineExtension(ConcurrentTransitionMixin, models.Model):
    """延期申请: the department asks for a later deadline with a reason; a supervisor grants
    it (the deadline moves; the old one stays here) or refuses it."""

    rectification = models.ForeignKey(Rectification, on_delete=models.CASCADE, related_name="extensions")
    status = FSMField(
        _("状态"),
        max_length=12,
        choices=ExtensionStatus.choices,
        default=ExtensionStatus.REQUESTED,
        protected=True,
    )
    reason = models.TextField(_("延期理由"))
    proposed_deadline = models.DateTimeField(_("申请延至"))
    old_deadline = models.DateTimeField(_("原期限"))
    new_deadline = models.DateTimeField(_("新期限"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_comment = models.TextField(_("审批意见"), blank=True)
    revision = models.PositiveIntegerField(_("修订号"), default=1)

    #: the engine locks the extension after its rectification's row (the service takes it)
    lock_related = ("rectification",)

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = pgettext_lazy("plural", "延期申请")
        ordering = ["rectification_id", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["rectification"],
                condition=models.Q(status="requested"),
                name="one_pending_extension_per_rectification",
            )
        ]

    def __str__(self) -> str:
        return f"{self.rectification} → {self.proposed_deadline:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("workflows:rectification_detail", args=[self.rectification_id])

    def audit_detail(self) -> dict:
        r = self.rectification
        return {
            "rectification": self.rectification_id,
            "department": r.department_id,
            "project": r.project_id,
            "old_deadline": self.old_deadline,
            "new_deadline": self.new_deadline,
        }

    @transition(
        field=status,
        source=ExtensionStatus.REQUESTED,
        target=ExtensionStatus.GRANTED,
        permission=perms.may_decide,
        custom=declare(
            _("同意延期"), roles=[Role.SUPERVISOR], tells=notices.extension_granted, audit="extension_grant"
        ),
    )
    def grant(self, *, new_deadline, comment: str = "") -> None:
        self.new_deadline = new_deadline
        self.decision_comment = comment

    @transition(
        field=status,
        source=ExtensionStatus.REQUESTED,
        target=ExtensionStatus.REFUSED,
        permission=perms.may_decide,
        custom=declare(
            _("不同意延期"),
            roles=[Role.SUPERVISOR],
            tells=notices.extension_refused,
            needs_reason=True,
            style="danger",
            audit="extension_refuse",
        ),
    )
    def refuse(self, *, comment: str) -> None:
        self.decision_comment = comment
