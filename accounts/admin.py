"""Admin screens: users and departments for the sysadmin; the expert and deputy libraries
and the agencies for the sysadmin and the finance section (财政绩效科), with the expert
library's XLSX import and export."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from .models import Agency, Department, DeputyProfile, ExpertProfile, User
from .roles import holds, role_labels, separated_role_conflict
from .services import IMPORT_PERMISSION, ExpertImportRejected, expert_library_export, expert_library_import


class SeparationOfDutiesMixin(forms.ModelForm):
    def clean_groups(self):
        groups = self.cleaned_data.get("groups")
        if groups is not None:
            clash = separated_role_conflict({g.name for g in groups})
            if clash:
                raise forms.ValidationError(
                    _("三员分立：同一账号不能同时担任 %(roles)s。") % {"roles": role_labels(clash)}
                )
        return groups


class JixiaoUserChangeForm(SeparationOfDutiesMixin, UserChangeForm):
    pass


class JixiaoUserCreationForm(SeparationOfDutiesMixin, UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "full_name", "department", "agency", "email")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = JixiaoUserChangeForm
    add_form = JixiaoUserCreationForm
    list_display = ("username", "full_name", "department", "agency", "roles", "is_active", "must_change_password")
    list_filter = ("groups", "department", "is_active")
    search_fields = ("username", "full_name", "email")
    list_select_related = ("department", "agency")
    fieldsets = (
        (None, {"fields": ("username", "password", "must_change_password")}),
        (
            gettext_lazy("个人信息"),
            {"fields": ("full_name", "email", "department", "agency", "language", "email_notifications")},
        ),
        (gettext_lazy("角色"), {"fields": ("is_active", "is_staff", "groups")}),
        (gettext_lazy("时间"), {"fields": ("last_login", "date_joined")}),
    )
    # set when someone else sets the password (accounts.passwords); only its owner clears it
    readonly_fields = ("must_change_password",)
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "full_name", "department", "agency", "email", "password1", "password2"),
            },
        ),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=gettext_lazy("角色"))
    def roles(self, obj):
        return role_labels(g.name for g in obj.groups.all())


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "parent", "active")
    list_filter = ("active",)
    search_fields = ("code", "name")
    list_select_related = ("parent",)


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ("name", "credit_code", "status")
    list_filter = ("status",)
    search_fields = ("name", "credit_code")


class ExpertProfileForm(forms.ModelForm):
    specialties = forms.MultipleChoiceField(
        label=gettext_lazy("专业领域"),
        choices=ExpertProfile.Specialty.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = ExpertProfile
        fields = ("user", "specialties", "employer", "conflicts", "active")


class ExpertImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("专家库文件"),
        help_text=gettext_lazy(
            "Excel 工作簿（.xlsx），第 1 行为表头：账号、姓名、邮箱、工作单位、专业领域、回避部门、在库。"
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )


@admin.register(ExpertProfile)
class ExpertProfileAdmin(admin.ModelAdmin):
    form = ExpertProfileForm
    list_display = ("user", "full_name", "specialty_labels", "employer", "active")
    list_filter = ("active",)
    search_fields = ("user__username", "user__full_name", "employer")
    filter_horizontal = ("conflicts",)
    list_select_related = ("user",)

    @admin.display(description=gettext_lazy("姓名"), ordering="user__full_name")
    def full_name(self, obj):
        return obj.user.full_name

    @admin.display(description=gettext_lazy("专业领域"))
    def specialty_labels(self, obj):
        labels = dict(ExpertProfile.Specialty.choices)
        return pgettext("list separator", "、").join(str(labels.get(s, s)) for s in obj.specialties)

    def get_urls(self):
        own = [
            path("import/", self.admin_site.admin_view(self.import_view), name="accounts_expertprofile_import"),
            path("export/", self.admin_site.admin_view(self.export_view), name="accounts_expertprofile_export"),
        ]
        return own + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_import_experts": holds(request.user, IMPORT_PERMISSION)}
        return super().changelist_view(request, extra_context)

    def import_view(self, request):
        """Upload form → the import service; a refused file shows every row error, nothing imported."""
        if not holds(request.user, IMPORT_PERMISSION):
            raise PermissionDenied
        rejected = None
        status = 200
        if request.method == "POST":
            form = ExpertImportForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                try:
                    result = expert_library_import(actor=request.user, file=upload)
                except ExpertImportRejected as exc:
                    rejected = {"file_name": upload.name, "errors": exc.errors}
                    status = 400
                else:
                    self.message_user(
                        request,
                        _("专家库已导入：新增 %(created)s 人，更新 %(updated)s 人。")
                        % {"created": result.created_count, "updated": result.updated_count},
                        messages.SUCCESS,
                    )
                    return redirect(reverse("admin:accounts_expertprofile_changelist"))
            else:
                status = 400
        else:
            form = ExpertImportForm()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("导入专家库 (XLSX)"),
            "form": form,
            "rejected": rejected,
        }
        return TemplateResponse(request, "admin/accounts/expertprofile/import.html", context, status=status)

    def export_view(self, request):
        if not holds(request.user, IMPORT_PERMISSION):
            raise PermissionDenied
        response = HttpResponse(
            expert_library_export(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        filename = f"experts-{timezone.localdate():%Y%m%d}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


@admin.register(DeputyProfile)
class DeputyProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "delegation", "active")
    list_filter = ("active",)
    search_fields = ("user__username", "user__full_name", "delegation")
    list_select_related = ("user",)
