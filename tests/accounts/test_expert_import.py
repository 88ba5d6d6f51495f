"""The expert library's XLSX import (all-or-nothing, row-level errors) and export, through
the service and through the admin screens of the finance section."""

import re
from io import BytesIO

import openpyxl
import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import ExpertProfile, User
from accounts.services import (
    COLUMNS,
    ExpertImportRejected,
    RowError,
    expert_library_export,
    expert_library_import,
)
from processes.models import AuditEvent
from tests.factories import make_user

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

GOOD_ROWS = [
    ["zhang_san", "张三", "zhang@example.cn", "广州大学", "基建工程、财务", "A01", "是"],
    ["li_si", "李四", "", "某会计师事务所", "财务，医疗卫生", "区住房建设局；A01", "否"],
    ["wang_wu", "王五", None, None, "教育", None, None],
]


def xlsx(rows, header=COLUMNS, name="experts.xlsx") -> SimpleUploadedFile:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    if header is not None:
        sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    for cells in sheet.iter_rows():
        for cell in cells:
            if cell.data_type == "f":  # typed as text, the way Excel keeps a leading '=
                cell.data_type = "s"
    out = BytesIO()
    workbook.save(out)
    return SimpleUploadedFile(name, out.getvalue(), content_type=XLSX)


def sheet_values(data: bytes) -> list[tuple]:
    workbook = openpyxl.load_workbook(BytesIO(data))
    return list(workbook.worksheets[0].iter_rows(values_only=True))


def library() -> dict[str, tuple]:
    """Every expert as comparable values: account, profile and conflicts."""
    return {
        p.user.username: (
            p.user.full_name,
            p.user.email,
            p.employer,
            tuple(p.specialties),
            frozenset(d.code for d in p.conflicts.all()),
            p.active,
        )
        for p in ExpertProfile.objects.select_related("user").prefetch_related("conflicts")
    }


def imports() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="expert_import"))


def rejected(actor, upload) -> list[RowError]:
    with pytest.raises(ExpertImportRejected) as info:
        expert_library_import(actor=actor, file=upload)
    return info.value.errors


def test_experts_are_created_with_specialties_conflicts_and_role_when_file_is_good(district):
    result = expert_library_import(actor=district.finance, file=xlsx(GOOD_ROWS))

    assert (result.created_count, result.updated_count) == (3, 0)
    assert library() == {
        "zhang_san": ("张三", "zhang@example.cn", "广州大学", ("infrastructure", "finance"), {"A01"}, True),
        "li_si": ("李四", "", "某会计师事务所", ("finance", "health"), {"A01", "B01"}, False),
        "wang_wu": ("王五", "", "", ("education",), frozenset(), True),
    }
    for username in ("zhang_san", "li_si", "wang_wu"):
        user = User.objects.get(username=username)
        assert user.role_names == {"expert"}
        assert not user.has_usable_password()
    [event] = imports()
    assert event.actor == district.finance
    assert event.actor_role == "finance_officer"
    assert (event.object_type, event.object_repr) == ("auth.group", "expert")
    assert event.detail["created"] == 3 and event.detail["updated"] == 0
    assert sorted(event.detail["new_accounts"]) == ["li_si", "wang_wu", "zhang_san"]


def test_every_row_counts_as_updated_when_same_file_is_imported_again(district):
    expert_library_import(actor=district.finance, file=xlsx(GOOD_ROWS))
    before = library()

    result = expert_library_import(actor=district.finance, file=xlsx(GOOD_ROWS))

    assert (result.created_count, result.updated_count) == (0, 3)
    assert library() == before
    assert User.objects.filter(username__in=before).count() == 3
    assert [e.detail["updated"] for e in imports()] == [0, 3]


def test_existing_entry_changes_when_row_differs(district):
    expert_library_import(actor=district.finance, file=xlsx(GOOD_ROWS))
    changed = [["zhang_san", "张三丰", "zs@example.cn", "华南理工大学", "城市管理", "B01", "否"]]

    expert_library_import(actor=district.finance, file=xlsx(changed))

    assert library()["zhang_san"] == ("张三丰", "zs@example.cn", "华南理工大学", ("urban",), {"B01"}, False)


def test_fields_are_kept_when_their_column_is_absent(district):
    expert_library_import(actor=district.finance, file=xlsx(GOOD_ROWS))

    expert_library_import(actor=district.finance, file=xlsx([["张三（改）", "zhang_san"]], header=["姓名", "账号"]))

    assert library()["zhang_san"] == (
        "张三（改）",
        "zhang@example.cn",
        "广州大学",
        ("infrastructure", "finance"),
        {"A01"},
        True,
    )


def test_columns_are_read_by_header_when_order_differs(district):
    header = ["在库", "专业领域", "账号", "回避部门", "姓名"]
    expert_library_import(actor=district.finance, file=xlsx([["否", "民政", "zhao_liu", "区农水局", "赵六"]], header))

    assert library() == {"zhao_liu": ("赵六", "", "", ("civil_affairs",), {"A01"}, False)}


def test_roleless_account_joins_library_when_named_in_file(district):
    existing = make_user("expert", username="placeholder")
    existing.groups.clear()  # an account with no role yet
    existing = User.objects.get(pk=existing.pk)

    result = expert_library_import(actor=district.finance, file=xlsx([["placeholder", "钱七", None, None, "财务"]]))

    assert result.created == ["placeholder"] and result.new_accounts == []
    existing.refresh_from_db()
    assert existing.has_usable_password()  # an existing account keeps its password
    assert User.objects.get(pk=existing.pk).role_names == {"expert"}


@pytest.mark.parametrize(
    ("bad_row", "column", "fragment"),
    [
        (["bad_1", "某人", None, None, "天文学", None, None], "专业领域", "天文学"),
        (["bad_2", "某人", None, None, "财务", "Z99", None], "回避部门", "Z99"),
        ([None, "某人", None, None, "财务", None, None], "账号", "必须填写"),
        (["bad_3", None, None, None, "财务", None, None], "姓名", "必须填写"),
        (["bad_4", "某人", None, None, "财务", None, "也许"], "在库", "是"),
        (["bad_5", "某人", "not-an-email", None, "财务", None, None], "邮箱", "邮件"),
        (["bad 6", "某人", None, None, "财务", None, None], "账号", "用户名"),
        (["bad_7", "某人", None, "单" * 129, "财务", None, None], "工作单位", "128"),
    ],
    ids=["specialty", "department", "no-username", "no-name", "active", "email", "username-chars", "employer-length"],
)
def test_nothing_is_imported_and_row_is_named_when_one_row_is_bad(district, bad_row, column, fragment):
    rows = [GOOD_ROWS[0], bad_row, GOOD_ROWS[2]]

    errors = rejected(district.finance, xlsx(rows))

    assert [(e.row, e.column) for e in errors] == [(3, column)]  # Excel's row: header is row 1
    assert fragment in errors[0].message
    assert fragment in str(errors[0]) and "第 3 行" in str(errors[0])
    assert not ExpertProfile.objects.exists()
    assert not User.objects.filter(username__in=["zhang_san", "wang_wu"]).exists()
    assert imports() == []


def test_every_bad_row_is_reported_when_several_are_bad(district):
    rows = [["a1", "甲", None, None, "天文学", "Z99"], GOOD_ROWS[0], ["a2", None, None, None, "财务"]]

    errors = rejected(district.finance, xlsx(rows))

    assert [(e.row, e.column) for e in errors] == [(2, "专业领域"), (2, "回避部门"), (4, "姓名")]


def test_later_row_is_refused_when_username_repeats_in_file(district):
    rows = [GOOD_ROWS[0], GOOD_ROWS[1], ["zhang_san", "另一个张三", None, None, "教育"]]

    errors = rejected(district.finance, xlsx(rows))

    assert [(e.row, e.column) for e in errors] == [(4, "账号")]
    assert "第 2 行" in errors[0].message
    assert not ExpertProfile.objects.exists()


@pytest.mark.parametrize(
    ("upload", "fragment"),
    [
        (SimpleUploadedFile("experts.csv", "账号,姓名\nzhang_san,张三\n".encode()), ".xlsx"),
        (SimpleUploadedFile("experts.xlsx", b"not a zip archive at all"), "无法读取"),
    ],
    ids=["csv", "garbage"],
)
def test_file_is_refused_when_not_an_xlsx_workbook(district, upload, fragment):
    errors = rejected(district.finance, upload)

    assert len(errors) == 1 and errors[0].row is None
    assert fragment in errors[0].message
    assert imports() == []


@pytest.mark.parametrize(
    ("header", "fragment"),
    [(COLUMNS, "没有数据行"), (None, "表头")],
    ids=["header-only", "blank-sheet"],
)
def test_file_is_refused_when_sheet_has_no_data_rows(district, header, fragment):
    errors = rejected(district.finance, xlsx([], header=header))

    assert len(errors) == 1 and fragment in errors[0].message


@pytest.mark.parametrize(
    ("header", "column", "fragment"),
    [
        (["账号", "姓名", "职称"], "职称", "未知的列"),
        (["账号", "专业领域"], "姓名", "缺少"),
        (["账号", "姓名", "账号"], "账号", "重复"),
    ],
    ids=["unknown", "missing-required", "repeated"],
)
def test_header_row_is_refused_when_columns_are_wrong(district, header, column, fragment):
    errors = rejected(district.finance, xlsx([["zhang_san", "张三", "x"]], header=header))

    assert [(e.row, e.column) for e in errors] == [(1, column)]
    assert fragment in errors[0].message


@pytest.mark.parametrize("person", ["auditor", "sysadmin", "finance", "staff_a", "agency_staff", "deputy"])
def test_account_is_refused_when_it_holds_another_role(district, person):
    user = getattr(district, person)
    rows = [GOOD_ROWS[0], [user.username, "某人", None, None, "财务"]]

    errors = rejected(district.finance, xlsx(rows))

    assert [(e.row, e.column) for e in errors] == [(3, "账号")]
    assert "不能同时作为专家" in errors[0].message
    assert not ExpertProfile.objects.exists()
    assert User.objects.get(pk=user.pk).role_names == user.role_names


def test_export_imports_back_to_the_same_library_when_round_tripped(district):
    expert_library_import(actor=district.finance, file=xlsx(GOOD_ROWS))
    before = library()
    exported = expert_library_export()
    User.objects.filter(username__in=before).delete()

    result = expert_library_import(actor=district.finance, file=SimpleUploadedFile("back.xlsx", exported))

    assert result.created_count == 3
    assert library() == before
    assert sheet_values(expert_library_export()) == sheet_values(exported)
    assert sheet_values(exported)[0] == COLUMNS


def test_export_writes_text_not_formulas_when_a_value_starts_with_equals(district):
    rows = [["eq", "某人", None, '=HYPERLINK("http://example.com","点我")', "财务"]]
    expert_library_import(actor=district.finance, file=xlsx(rows))

    sheet = openpyxl.load_workbook(BytesIO(expert_library_export())).worksheets[0]

    assert sheet["D2"].value == '=HYPERLINK("http://example.com","点我")'
    assert sheet["D2"].data_type != "f"


def test_sysadmin_may_import_when_holding_the_permission(district):
    result = expert_library_import(actor=district.sysadmin, file=xlsx(GOOD_ROWS[:1]))

    assert result.created == ["zhang_san"]
    assert imports()[0].actor_role == "sysadmin"


@pytest.mark.parametrize("person", ["staff_a", "auditor", "expert", "supervisor"])
def test_service_refuses_when_actor_lacks_import_permission(district, person):
    with pytest.raises(PermissionDenied):
        expert_library_import(actor=getattr(district, person), file=xlsx(GOOD_ROWS))

    assert not ExpertProfile.objects.exists()
    assert imports() == []


# -- the admin screens ------------------------------------------------------------------


@pytest.fixture
def finance_admin(district, client):
    User.objects.filter(pk=district.finance.pk).update(is_staff=True)
    client.force_login(district.finance)
    return client


@pytest.mark.parametrize("name", ["admin:accounts_expertprofile_import", "admin:accounts_expertprofile_export"])
def test_admin_page_is_forbidden_when_staff_user_lacks_import_permission(district, client, name):
    User.objects.filter(pk=district.staff_a.pk).update(is_staff=True)
    client.force_login(district.staff_a)

    assert client.get(reverse(name)).status_code == 403
    response = client.post(reverse("admin:accounts_expertprofile_import"), {"file": xlsx(GOOD_ROWS)})
    assert response.status_code == 403
    assert not ExpertProfile.objects.exists()


def test_finance_officer_imports_through_admin_when_file_is_good(district, finance_admin):
    assert finance_admin.get(reverse("admin:accounts_expertprofile_import")).status_code == 200

    response = finance_admin.post(reverse("admin:accounts_expertprofile_import"), {"file": xlsx(GOOD_ROWS)})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:accounts_expertprofile_changelist")
    assert set(library()) == {"zhang_san", "li_si", "wang_wu"}
    page = finance_admin.get(response["Location"])
    assert "新增 3 人，更新 0 人" in page.content.decode()


def test_admin_shows_row_errors_and_imports_nothing_when_file_is_bad(district, finance_admin):
    rows = [GOOD_ROWS[0], ["bad", "某人", None, None, "天文学"]]

    response = finance_admin.post(
        reverse("admin:accounts_expertprofile_import"), {"file": xlsx(rows, name="专家库.xlsx")}
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="import-errors"' in html
    assert "专家库.xlsx" in html and "天文学" in html and "<td>3</td>" in html
    assert 'type="file"' in html  # the form is shown again for the corrected file
    assert not ExpertProfile.objects.exists()


def test_admin_changelist_offers_import_and_export_when_user_may_import(district, finance_admin):
    html = finance_admin.get(reverse("admin:accounts_expertprofile_changelist")).content.decode()

    assert reverse("admin:accounts_expertprofile_import") in html
    assert reverse("admin:accounts_expertprofile_export") in html


def test_admin_changelist_hides_import_and_export_when_user_may_only_view(district, client):
    from django.contrib.auth.models import Permission

    viewer = make_user("supervisor", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_expertprofile"))
    client.force_login(viewer)

    response = client.get(reverse("admin:accounts_expertprofile_changelist"))

    assert response.status_code == 200
    assert reverse("admin:accounts_expertprofile_import") not in response.content.decode()


def test_admin_export_returns_the_library_as_xlsx_when_finance_asks(district, finance_admin):
    expert_library_import(actor=district.finance, file=xlsx(GOOD_ROWS))

    response = finance_admin.get(reverse("admin:accounts_expertprofile_export"))

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"]
    values = sheet_values(response.content)
    assert values[0] == COLUMNS and len(values) == 4


def test_finance_officer_holds_library_admin_permissions_when_roles_are_migrated(district):
    finance = User.objects.get(pk=district.finance.pk)
    for perm in ("import_experts", "change_expertprofile", "add_deputyprofile", "change_agency"):
        assert finance.has_perm(f"accounts.{perm}")
    assert Group.objects.get(name="sysadmin").permissions.filter(codename="import_experts").exists()


@pytest.mark.parametrize("model", ["expertprofile", "deputyprofile", "agency"])
def test_finance_officer_opens_library_admin_when_staff(district, finance_admin, model):
    assert finance_admin.get(reverse(f"admin:accounts_{model}_changelist")).status_code == 200
    assert finance_admin.get(reverse(f"admin:accounts_{model}_add")).status_code == 200


def test_finance_officer_is_kept_out_of_user_admin_when_managing_libraries(district, finance_admin):
    assert finance_admin.get(reverse("admin:accounts_user_changelist")).status_code == 403


def test_finance_officer_changes_specialties_in_admin_when_ticking_boxes(district, finance_admin):
    expert_library_import(actor=district.finance, file=xlsx(GOOD_ROWS[:1]))
    profile = ExpertProfile.objects.get(user__username="zhang_san")
    url = reverse("admin:accounts_expertprofile_change", args=[profile.pk])
    form = finance_admin.get(url).content.decode()
    assert re.search(r'<input type="checkbox" name="specialties" value="infrastructure"[^>]*checked', form)
    assert not re.search(r'<input type="checkbox" name="specialties" value="education"[^>]*checked', form)

    response = finance_admin.post(
        url,
        {
            "user": profile.user_id,
            "specialties": ["education", "health"],
            "employer": "广州医科大学",
            "conflicts": [district.dept_b.pk],
            "active": "on",
        },
    )

    assert response.status_code == 302
    assert library()["zhang_san"] == (
        "张三",
        "zhang@example.cn",
        "广州医科大学",
        ("education", "health"),
        {"B01"},
        True,
    )
