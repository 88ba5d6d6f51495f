"""factory_boy factories. Users get their role through `role=`; departments are unique by code."""

from decimal import Decimal

import factory
from django.contrib.auth.models import Group

from accounts.models import Agency, Department, User
from processes.models import BudgetProject, ProjectCategory, Recurrence

PASSWORD = "Jixiao-test-2026!"


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"D{n:03d}")
    name = factory.Sequence(lambda n: f"测试部门{n}")


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency

    name = factory.Sequence(lambda n: f"第三方机构{n}")
    credit_code = factory.Sequence(lambda n: f"91440100{n:010d}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.cn")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))
        if create:
            self.save()


def make_user(role: str, department: Department | None = None, **kwargs) -> User:
    """A fresh user with one role; department roles default to a new department."""
    if department is None and role in ("dept_staff", "dept_leader"):
        department = DepartmentFactory()
    user = UserFactory(role=role, department=department, **kwargs)
    return User.objects.get(pk=user.pk)  # fresh instance: no stale permission cache


class BudgetProjectFactory(factory.django.DjangoModelFactory):
    """A draft project. Later stages are reached through services (see tests/helpers)."""

    class Meta:
        model = BudgetProject

    department = factory.SubFactory(DepartmentFactory)
    fiscal_year = 2021
    code = factory.Sequence(lambda n: f"2021-{n:05d}")
    name = factory.Sequence(lambda n: f"测试项目{n}")
    category = ProjectCategory.INFRASTRUCTURE
    recurrence = Recurrence.ONE_OFF
    requested_amount = Decimal("1200000.00")
    created_by = factory.LazyAttribute(lambda p: make_user("dept_staff", p.department))
