"""Admin screens for the sysadmin: users, departments, expert and deputy libraries, agencies."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Agency, Department, DeputyProfile, ExpertProfile, User
from .roles import role_labels, separated_role_conflict


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
    list_display = ("username", "full_name", "department", "agency", "roles", "is_active")
    list_filter = ("groups", "department", "is_active")
    search_fields = ("username", "full_name", "email")
    list_select_related = ("department", "agency")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            gettext_lazy("个人信息"),
            {"fields": ("full_name", "email", "department", "agency", "language", "email_notifications")},
        ),
        (gettext_lazy("角色"), {"fields": ("is_active", "is_staff", "groups")}),
        (gettext_lazy("时间"), {"fields": ("last_login", "date_joined")}),
    )
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
    search_fields = ("name", "credit_code")


@admin.register(ExpertProfile)
class ExpertProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "employer", "active")
    list_filter = ("active",)
    filter_horizontal = ("conflicts",)
    list_select_related = ("user",)


@admin.register(DeputyProfile)
class DeputyProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "delegation", "active")
    list_select_related = ("user",)
