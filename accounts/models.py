"""People and organisations: users, departments, expert/deputy profiles, agencies."""

from __future__ import annotations

from functools import cached_property

from django.contrib.auth.models import AbstractUser, Group
from django.db import connections, models, router, transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .compiled import MAX_ID, by_user_id
from .roles import BUREAU_WIDE_READERS, DEPARTMENT_ROLES, Role


class Department(models.Model):
    """预算部门/单位: a budget department, or a unit under its 主管部门 (parent)."""

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=128, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("主管部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="units",
    )
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("预算部门")
        verbose_name_plural = pgettext_lazy("plural", "预算部门")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Agency(models.Model):
    """第三方机构: a third-party agency commissioned for reviews and evaluations."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("有效")
        SUSPENDED = "suspended", _("暂停")

    name = models.CharField(_("名称"), max_length=128, unique=True)
    #: Null only for an agency known by name from imported history.
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True, null=True, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.ACTIVE)

    class Meta:
        verbose_name = _("第三方机构")
        verbose_name_plural = pgettext_lazy("plural", "第三方机构")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who logs in. Roles are groups (see accounts.roles)."""

    full_name = models.CharField(_("姓名"), max_length=64, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("所属部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("所属机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    language = models.CharField(
        _("界面语言"),
        max_length=8,
        default="zh-hans",
        choices=[("zh-hans", "简体中文"), ("en", "English")],
    )
    email_notifications = models.BooleanField(_("接收邮件通知"), default=True)
    #: The password was set by someone else (an administrator, the operator's command): it is
    #: temporary, and nothing but the password-change page is served until its owner changes
    #: it (accounts.middleware.PasswordChangeRequiredMiddleware; accounts.passwords).
    must_change_password = models.BooleanField(_("下次登录须修改密码"), default=False, editable=False)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = pgettext_lazy("plural", "用户")

    def __str__(self) -> str:
        return self.full_name or self.username

    def save(self, *args, **kwargs):
        """A password set on this instance (``set_password``) ends the user's API tokens,
        and is classified by who set it — its owner, or someone else, which makes it
        temporary — and acted on, in the same transaction (accounts.passwords)."""
        if getattr(self, "_password", None) is None:  # set by set_password() until saved
            return super().save(*args, **kwargs)
        from .passwords import password_saved, password_setter, revoke_api_tokens

        setter = password_setter(self)
        with transaction.atomic(using=kwargs.get("using")):
            if setter is not None:
                self.must_change_password = not setter.is_owner
                if kwargs.get("update_fields") is not None:
                    kwargs["update_fields"] = {*kwargs["update_fields"], "must_change_password"}
            created = self.pk is None
            super().save(*args, **kwargs)
            if not created:
                revoke_api_tokens(self)
            if setter is not None:
                password_saved(self, setter, created=created)

    @cached_property
    def role_names(self) -> frozenset[str]:
        """The user's roles, read once per instance (one query, compiled once: every
        signed-in request asks it)."""
        if self.pk is None or not 0 < self.pk <= MAX_ID:
            return frozenset(self.groups.values_list("name", flat=True))
        using = self._state.db or router.db_for_read(Group)
        sql, params = by_user_id("role_names", _role_names_query, self.pk, using)
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            return frozenset(name for (name,) in cursor.fetchall())

    def has_role(self, role: str) -> bool:
        return role in self.role_names

    @property
    def is_department_user(self) -> bool:
        return bool(self.role_names & DEPARTMENT_ROLES)

    @property
    def reads_all_projects(self) -> bool:
        return bool(self.role_names & BUREAU_WIDE_READERS)

    @property
    def display_roles(self) -> list[str]:
        return [str(Role(r).label) for r in Role.values if r in self.role_names]


def _role_names_query(user_id: int):
    """``user.groups.values_list("name", flat=True)``, by the user's id."""
    return Group.objects.filter(user=user_id).values_list("name", flat=True)


class ProjectCategory(models.TextChoices):
    """A budget project's category (项目类别) — also the expert library's sector specialties
    (``ExpertProfile.Specialty`` is derived from it). Defined here, at the bottom layer, so the
    expert library can use it; ``processes.models.ProjectCategory`` is this class."""

    INFRASTRUCTURE = "infrastructure", _("基建工程")
    CIVIL_AFFAIRS = "civil_affairs", _("民政")
    POVERTY = "poverty", _("产业扶贫")
    URBAN = "urban", _("城市管理")
    EDUCATION = "education", _("教育")
    HEALTH = "health", _("医疗卫生")
    SOCIAL_SECURITY = "social_security", _("人力社保")
    OTHER = "other", _("其他")


class ExpertProfile(models.Model):
    """专家库 entry."""

    #: Every project category (the sector specialties: a sector expert's specialty is the
    #: project's category) and the general 财务, which fits any project without counting as
    #: a sector expert (settings JIXIAO["PANEL"]["general_specialties"]). Derived, so a new
    #: category is a specialty at once.
    Specialty = models.TextChoices(  # type: ignore[call-overload]
        "Specialty",
        [*((c.name, (c.value, c.label)) for c in ProjectCategory), ("FINANCE", ("finance", _("财务")))],
    )

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="expert_profile")
    specialties = models.JSONField(_("专业领域"), default=list, blank=True)
    employer = models.CharField(_("工作单位"), max_length=128, blank=True)
    conflicts = models.ManyToManyField(Department, verbose_name=_("申报回避的部门"), blank=True, related_name="+")
    active = models.BooleanField(_("在库"), default=True)

    class Meta:
        verbose_name = _("专家")
        verbose_name_plural = pgettext_lazy("plural", "专家库")
        permissions = [("import_experts", _("导入导出专家库"))]

    def __str__(self) -> str:
        return str(self.user)


class DeputyProfile(models.Model):
    """人大代表."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="deputy_profile")
    delegation = models.CharField(_("代表团"), max_length=128, blank=True)
    active = models.BooleanField(_("在库"), default=True)

    class Meta:
        verbose_name = _("人大代表")
        verbose_name_plural = pgettext_lazy("plural", "人大代表")

    def __str__(self) -> str:
        return str(self.user)


class ApiTokenActivity(models.Model):
    """When an API token (DRF's authtoken.Token) was last used, for its idle limit
    (accounts.authentication). Written at most once every API_TOKEN_RENEW_SECONDS; a
    token without a row counts as last used when it was created."""

    token = models.OneToOneField(
        "authtoken.Token",
        verbose_name=_("令牌"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="activity",
    )
    last_used_at = models.DateTimeField(_("最近使用时间"))

    class Meta:
        verbose_name = _("API 令牌使用")
        verbose_name_plural = pgettext_lazy("plural", "API 令牌使用")

    def __str__(self) -> str:
        return f"{self.token_id[:8]}… {self.last_used_at:%Y-%m-%d %H:%M}"
