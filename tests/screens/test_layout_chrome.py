"""The frame of every screen (issue 21): where each role lands after logging in, who is shown
the API docs link, the favicon, the header's menu button, and the labels of the per-row inputs
of the rating and opinion forms (their table headers show the column; screen readers need the
row too)."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from processes.models import TargetRow
from tests.factories import PASSWORD
from workflows.pre_assessment_forms import REDUCTION_ROWS, OpinionForm
from workflows.target_forms import TargetRateForm

pytestmark = pytest.mark.django_db


def log_in(client, user, **extra):
    return client.post(reverse("login"), {"username": user.username, "password": PASSWORD, **extra})


def test_login_lands_on_the_board_when_the_user_is_a_supervisor(client, district):
    response = log_in(client, district.supervisor)
    assert response.status_code == 302
    assert response["Location"] == reverse("workflows:deadline_board")


@pytest.mark.parametrize("who", ["staff_a", "finance", "expert", "auditor"])
def test_login_lands_on_the_inbox_when_the_user_is_not_a_supervisor(client, district, who):
    response = log_in(client, getattr(district, who))
    assert response["Location"] == reverse("workflows:inbox")


def test_login_follows_next_when_a_supervisor_was_sent_to_log_in(client, district):
    response = log_in(client, district.supervisor, next=reverse("workflows:project_list"))
    assert response["Location"] == reverse("workflows:project_list")


def test_brand_links_to_the_board_when_the_user_is_a_supervisor(client, district):
    client.force_login(district.supervisor)
    body = client.get(reverse("workflows:project_list")).content.decode()
    assert f'class="brand" href="{reverse("workflows:deadline_board")}"' in body


@pytest.mark.parametrize("who", ["expert", "deputy"])
def test_api_docs_link_is_hidden_when_the_role_does_not_use_the_api(client, district, who):
    client.force_login(getattr(district, who))
    body = client.get(reverse("workflows:inbox")).content.decode()
    assert reverse("api-docs") not in body
    assert "接口文档" not in body


@pytest.mark.parametrize("who", ["staff_a", "leader_a", "finance", "supervisor", "auditor", "agency_staff", "sysadmin"])
def test_api_docs_link_is_shown_when_the_role_uses_the_api(client, district, who):
    client.force_login(getattr(district, who))
    body = client.get(reverse("workflows:inbox")).content.decode()
    assert f'href="{reverse("api-docs")}"' in body


def test_favicon_ico_redirects_to_the_static_icon_when_asked_for(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("/favicon.ico") and response["Location"].startswith("/static/")
    icon = finders.find("favicon.ico")
    assert icon is not None
    with open(icon, "rb") as f:
        assert f.read(4) == b"\x00\x00\x01\x00"  # an ICO file
    assert finders.find("img/favicon.svg") is not None


def test_every_page_links_the_favicon_when_rendered(client, district):
    for response in (client.get(reverse("login")), (client.force_login(district.finance), client.get("/"))[1]):
        body = response.content.decode()
        assert 'rel="icon" href="/static/img/favicon.svg"' in body


def test_header_has_the_menu_button_when_logged_in(client, district):
    client.force_login(district.finance)
    body = client.get("/").content.decode()
    assert 'class="nav-toggle" aria-expanded="false" aria-controls="topnav"' in body
    assert 'id="topnav"' in body
    assert "/static/js/nav.js" in body


def test_rating_form_row_inputs_are_labelled_by_row_and_column_when_built():
    rows = [
        TargetRow(position=1, name="新建河道长度", direction="gte", level1="output", level2="quantity"),
        TargetRow(position=2, name="群众满意度", direction="qualitative", level1="effect", level2="social"),
    ]
    form = TargetRateForm(rows=rows)
    labels = {n: f.widget.attrs.get("aria-label") for n, f in form.fields.items() if n.startswith("row_")}
    assert labels["row_1_target_value"] == "第1行 新建河道长度：指标值"
    assert labels["row_2_review_comment"].startswith("第2行 群众满意度：")
    assert all(labels.values()) and len(labels) == 7  # 4 inputs on a quantitative row, 3 on a qualitative one


def test_opinion_form_reduction_inputs_are_labelled_by_row_when_built():
    form = OpinionForm(dimensions=[{"code": "need", "label": "立项必要性", "points": 20}])
    names = [
        f"{part}_{i}" for i in range(1, REDUCTION_ROWS + 1) for part in ("item", "requested", "approved", "reason")
    ]
    labels = [form.fields[name].widget.attrs.get("aria-label") for name in names]
    assert labels[0] == "第1行：核减事项"
    assert labels[-1] == f"第{REDUCTION_ROWS}行：核减理由"
    assert len(set(labels)) == len(labels)
