"""The main navigation kept per key (accounts.templatetags.navigation, issue 20): the kept
HTML is byte for byte what base.html's former inline menu drew, for every demo role, both
languages and every section, with the unread count substituted per request; a role given
or taken shows on the user's next request."""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.template import engines
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import translation

from accounts.templatetags.navigation import _nav_parts

pytestmark = pytest.mark.django_db

#: base.html's menu before it was kept per key (commit 9a0acc6), verbatim.
FORMER = (
    "{% load i18n %}"
    + """      {% with ns=request.resolver_match.namespace name=request.resolver_match.url_name %}
      <nav class="mainnav" aria-label="{% translate '主导航' %}">
        {% if not congress_only %}
        <a href="{% url 'workflows:inbox' %}" {% if name == "inbox" or name == "task" %}class="active" aria-current="page"{% endif %}>{% translate "待办" %}</a>
        <a href="{% url 'workflows:project_list' %}" {% if ns == "processes" and name|slice:":8" == "project_" or name == "project_detail" %}class="active" aria-current="page"{% endif %}>{% translate "项目" %}</a>
        <a href="{% url 'processes:indicator_list' %}" {% if ns == "processes" and name|slice:":10" == "indicator_" %}class="active" aria-current="page"{% endif %}>{% translate "指标库" %}</a>
        {% if "finance_officer" in user_roles or "supervisor" in user_roles or "auditor" in user_roles or "dept_staff" in user_roles or "dept_leader" in user_roles %}<a href="{% url 'workflows:policy_list' %}" {% if ns == "workflows" and name|slice:":7" == "policy_" %}class="active" aria-current="page"{% endif %}>{% translate "重大政策" %}</a>{% endif %}
        {% endif %}
        {% if "finance_officer" in user_roles or "supervisor" in user_roles or "auditor" in user_roles or "dept_staff" in user_roles or "dept_leader" in user_roles %}<a href="{% url 'workflows:monitoring_rounds' %}" {% if ns == "workflows" and name|slice:":11" == "monitoring_" %}class="active" aria-current="page"{% endif %}>{% translate "绩效监控" %}</a>{% endif %}
        {% if "finance_officer" in user_roles or "supervisor" in user_roles or "auditor" in user_roles or "dept_staff" in user_roles or "dept_leader" in user_roles or "agency_staff" in user_roles %}<a href="{% url 'workflows:evaluations' %}" {% if ns == "workflows" and name|slice:":10" == "evaluation" or name == "self_evaluation" or name|slice:":7" == "recheck" %}class="active" aria-current="page"{% endif %}>{% translate "绩效评价" %}</a>{% endif %}
        {% if "finance_officer" in user_roles or "agency_staff" in user_roles %}<a href="{% url 'workflows:agency_ratings' %}" data-testid="nav-agency-ratings" {% if ns == "workflows" and name == "agency_ratings" %}class="active" aria-current="page"{% endif %}>{% translate "机构评级" %}</a>{% endif %}
        {% if "finance_officer" in user_roles %}<a href="{% url 'workflows:framework_commissions' %}" data-testid="nav-frameworks" {% if ns == "workflows" and name == "framework_commissions" %}class="active" aria-current="page"{% endif %}>{% translate "整体委托" %}</a>{% endif %}
        {% if "finance_officer" in user_roles or "supervisor" in user_roles or "auditor" in user_roles or "dept_staff" in user_roles or "dept_leader" in user_roles %}<a href="{% url 'workflows:rectification_list' %}" {% if ns == "workflows" and name|slice:":13" == "rectification" %}class="active" aria-current="page"{% endif %}>{% translate "整改" %}</a>{% endif %}
        {% if "finance_officer" in user_roles or "supervisor" in user_roles or "auditor" in user_roles or "dept_staff" in user_roles or "dept_leader" in user_roles %}<a href="{% url 'workflows:committee_items' %}" {% if ns == "workflows" and name|slice:":9" == "committee" %}class="active" aria-current="page"{% endif %}>{% translate "人大审议意见" %}</a>{% endif %}
        {% if "finance_officer" in user_roles or "supervisor" in user_roles %}<a href="{% url 'workflows:deadline_board' %}" {% if ns == "workflows" and name|slice:":14" == "deadline_board" %}class="active" aria-current="page"{% endif %}>{% translate "督办看板" %}</a>{% endif %}
        {% if "finance_officer" in user_roles or "supervisor" in user_roles or "auditor" in user_roles or "congress_reader" in user_roles %}<a href="{% url 'reports:overview' %}" {% if ns == "reports" and name|slice:":6" != "public" %}class="active" aria-current="page"{% endif %}>{% translate "绩效报告" %}</a>{% endif %}
        <a href="{% url 'notifications:list' %}" {% if ns == "notifications" %}class="active" aria-current="page"{% endif %}>{% translate "通知" %}
          <span class="count{% if not unread_notifications %} is-zero{% endif %}" data-testid="unread-count"
                title="{% translate '未读通知' %}">{{ unread_notifications|default:0 }}</span></a>
        {% if "sysadmin" in user_roles %}<a href="{% url 'admin:index' %}">{% translate "系统管理" %}</a>{% endif %}
        {% if user.is_staff and perms.accounts.view_expertprofile and "sysadmin" not in user_roles %}<a href="{% url 'admin:accounts_expertprofile_changelist' %}">{% translate "专家库" %}</a>{% endif %}
        {% if perms.processes.view_auditevent %}<a href="{% url 'processes:audit_trail' %}" {% if ns == "processes" and name|slice:":11" == "audit_trail" %}class="active" aria-current="page"{% endif %}>{% translate "审计日志" %}</a>{% endif %}
        {% if uses_api %}<a href="{% url 'api-docs' %}">{% translate "接口文档" %}</a>{% endif %}
      </nav>
      {% endwith %}
"""
)
KEPT = "{% load navigation %}      {% main_nav %}\n"


def sections() -> list[tuple[str, str | None]]:
    """(namespace, url_name) of every named URL pattern, plus a page that resolves to none."""
    found: set[tuple[str, str | None]] = set()

    def walk(patterns, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                inner = p.namespace if not namespace else (f"{namespace}:{p.namespace}" if p.namespace else namespace)
                walk(p.url_patterns, inner or "")
            elif isinstance(p, URLPattern) and p.name:
                found.add((namespace, p.name))

    walk(get_resolver().url_patterns, "")
    return sorted(found, key=str)


def render_both(user, section, unread):
    request = RequestFactory().get("/")
    request.user = user
    if section is not None:
        request.resolver_match = SimpleNamespace(namespace=section[0], url_name=section[1])
    else:
        request.resolver_match = None
    engine = engines["django"]
    context = {"unread_notifications": unread}
    former = engine.from_string(FORMER).render(context, request)
    kept = engine.from_string(KEPT).render(context, request)
    return former, kept


def people(district):
    users = [getattr(district, name) for name in district.PEOPLE]
    staff_finance = district.finance
    staff_finance.is_staff = True  # the 专家库 link: is_staff and the library permission
    staff_finance.save()
    both = district.leader_b
    both.groups.add(Group.objects.get(name="agency_staff"))  # two roles
    from accounts.models import User

    return [User.objects.get(pk=u.pk) for u in users]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_kept_menu_is_the_former_menu_for_every_role_and_section(district, language):
    _nav_parts.cache_clear()
    all_sections = sections()
    assert len(all_sections) > 50
    some = [
        s
        for s in all_sections
        if s[1]
        in {
            "inbox",
            "task",
            "project_list",
            "project_detail",
            "indicator_list",
            "deadline_board",
            "overview",
            "list",
            "audit_trail",
            "agency_ratings",
            "monitoring_rounds",
            "evaluations",
            "rectification_list",
            "committee_items",
            "framework_commissions",
            "policy_list",
        }
    ] + [None]
    assert len(some) >= 16
    compared = 0
    with translation.override(language):
        for user in people(district):
            for section in all_sections if user.username == "finance" else some:
                for unread in (0, None, 3, 1234) if section in some else (0, 3):
                    former, kept = render_both(user, section, unread)
                    assert kept == former, (user.username, section, unread)
                    compared += 1
    assert _nav_parts.cache_info().hits > compared / 2  # most were served from the store
    assert "<nav" in former


def test_the_unread_count_and_its_zero_class_are_per_request(district):
    user = district.staff_a
    zero = render_both(user, ("workflows", "inbox"), 0)[1]
    some = render_both(user, ("workflows", "inbox"), 5)[1]
    assert 'class="count is-zero" data-testid="unread-count"' in zero and ">0</span>" in zero
    assert 'class="count" data-testid="unread-count"' in some and ">5</span>" in some
    assert 'aria-current="page"' in some


def test_a_role_given_or_taken_changes_the_menu_on_the_next_request(client, district):
    user = district.staff_a
    client.force_login(user)
    frameworks = reverse("workflows:framework_commissions")
    board = reverse("workflows:deadline_board")
    before = client.get("/").content.decode()
    assert frameworks not in before and board not in before
    finance = Group.objects.get(name="finance_officer")
    user.groups.add(finance)
    after = client.get("/").content.decode()
    assert frameworks in after and board in after and 'data-testid="nav-frameworks"' in after
    user.groups.remove(finance)
    again = client.get("/").content.decode()
    assert frameworks not in again and board not in again


def test_the_menu_follows_the_language_of_each_request(client, district, settings):
    client.force_login(district.finance)
    zh = client.get("/").content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    en = client.get("/").content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    zh_again = client.get("/").content.decode()
    assert "督办看板" in zh and "督办看板" in zh_again
    assert "督办看板" not in en and 'lang="en"' in en


def test_a_kept_fragment_reads_nothing_of_the_request_and_follows_the_language(rf):
    engine = engines["django"]
    fragment = engine.from_string('{% load i18n navigation %}{% kept %}[{{ user }}]{% translate "退出" %}{% endkept %}')
    request = rf.get("/")
    with translation.override("zh-hans"):
        assert fragment.render({"user": "someone"}, request) == "[]退出"
    with translation.override("en"):
        assert fragment.render({"user": "someone else"}, request) == "[]Log out"
    with translation.override("zh-hans"):
        assert fragment.render({}, request) == "[]退出"


def test_the_per_request_parts_of_the_chrome_stay_per_request(client, district, settings):
    """Around the kept parts: the brand's link (the user's landing page), the user's name
    and roles, the CSRF tokens, the language form's `next` and its pressed button."""
    client.force_login(district.supervisor)
    board = client.get("/board/?kind=task").content.decode()
    assert f'<a class="brand" href="{reverse("workflows:deadline_board")}">' in board
    assert '<input type="hidden" name="next" value="/board/?kind=task">' in board
    assert 'value="zh-hans" class="link current"' in board and 'aria-pressed="true"' in board
    assert board.count('name="csrfmiddlewaretoken"') == 2
    other = client.__class__()
    other.force_login(district.staff_a)
    other.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    inbox = other.get("/").content.decode()
    assert '<a class="brand" href="/">' in inbox
    assert '<input type="hidden" name="next" value="/">' in inbox
    assert 'value="en" class="link current"' in inbox and "Log out" in inbox and "退出" not in inbox
    assert str(district.staff_a) in inbox and str(district.supervisor) not in inbox

    def token(page):
        return page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]

    assert token(board) != token(inbox)
