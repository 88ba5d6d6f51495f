"""Irreversible actions ask first (issue 21): the forms and buttons carry data-confirm with a
sentence saying what will happen, and every logged-in page has the one dialog that
static/js/confirm.js opens (the browser behaviour: tests/e2e/test_expert_review.py)."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from notifications.services import Message, notify


def _html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_every_page_has_the_confirmation_dialog_and_its_script_when_logged_in(client, district):
    client.force_login(district.staff_a)
    html = _html(client.get(reverse("workflows:inbox")))
    assert 'id="confirm-dialog"' in html and 'aria-labelledby="confirm-dialog-title"' in html
    assert "js/confirm.js" in html
    assert "data-confirm-cancel>取消</button>" in html


def test_login_page_has_no_confirmation_dialog_when_anonymous(client):
    assert 'id="confirm-dialog"' not in _html(client.get(reverse("login")))


@pytest.mark.parametrize(
    ("url_name", "sentence"),
    [
        ("workflows:monitoring_rounds", "将为该期所有在执行的项目发起绩效监控并通知各部门，发起后不能撤回。"),
        ("workflows:evaluations", "将为该年度所有在执行的项目发起绩效自评并通知各部门，发起后不能撤回。"),
    ],
)
def test_bulk_launch_forms_ask_first_when_finance_may_launch(client, district, url_name, sentence):
    client.force_login(district.finance)
    html = _html(client.get(reverse(url_name)))
    assert f'data-confirm="{sentence}确定发起吗？"' in html


def test_disclosure_asks_first_saying_it_publishes_when_finance_may_disclose(client, district):
    client.force_login(district.finance)
    html = _html(client.get(reverse("reports:year", args=[2022])))
    assert 'data-testid="disclose-form" data-confirm="批准后汇总表将发布到公开页面，任何人都能看到。' in html


def test_mark_all_read_asks_first_when_the_user_has_unread_notifications(client, district):
    with transaction.atomic():
        notify(messages={district.staff_a: Message(kind="task", verb="测试通知")}, event_key="t-confirm")
    client.force_login(district.staff_a)
    html = _html(client.get(reverse("notifications:list")))
    assert 'data-confirm="将把全部未读通知标为已读。确定吗？"' in html
