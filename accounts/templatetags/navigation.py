"""The main navigation of every page (``{% main_nav %}`` in base.html), rendered once per
key and kept (issue 20, decision 0029's rule: keep what is a pure function of its key).

The menu was ~25 ``{% translate %}`` tags, the role tests of every item, two permission
lookups and ~17 URL reversals on every page. Its HTML (templates/includes/mainnav.html)
is a pure function of :func:`nav_key`: the user's role set, ``congress_only``, whether the
专家库 and 审计日志 links show (``is_staff`` and the two permissions, tested exactly as the
template tested them), ``uses_api``, the active language, the resolver's namespace and
url_name (the active section), the script prefix and the urlconf. The template reads
nothing else, so a kept entry can never be stale and **nothing needs invalidating**: a
write that changes what a user's menu shows (a role given or taken, a permission, is_staff)
changes the key of their next request. The store is bounded (``_nav_parts``' LRU, 1,024
entries of ~4 KB).

Per request stay: the unread count (substituted into the kept HTML, with its ``is-zero``
class) and everything per user outside the menu (name, roles, CSRF tokens, ``next``),
which base.html renders as before. Tests: tests/screens/test_navigation_cache.py compares
the kept menu with the former template byte for byte.
"""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.template.loader import get_template
from django.urls import get_script_prefix, get_urlconf
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()

#: Stands for the unread count while the menu is rendered for keeping; truthy, so the count's
#: span is drawn without ``is-zero`` (the zero form is derived from it).
_UNREAD = "\x00jx-unread\x00"
_COUNT = '<span class="count"'
_COUNT_ZERO = '<span class="count is-zero"'


def nav_key(context) -> tuple:
    """Everything templates/includes/mainnav.html depends on, read from base.html's context
    as the former inline menu read it (a missing resolver match gave "" there)."""
    user = context.get("user")
    request = context.get("request")
    roles = context.get("user_roles") or frozenset()
    match = getattr(request, "resolver_match", None)
    ns, name = (match.namespace, match.url_name) if match is not None else ("", "")
    expert = bool(
        user is not None and user.is_staff and user.has_perm("accounts.view_expertprofile") and "sysadmin" not in roles
    )
    audit = bool(user is not None and user.has_perm("processes.view_auditevent"))
    return (
        frozenset(roles),
        bool(context.get("congress_only")),
        expert,
        audit,
        bool(context.get("uses_api")),
        get_language(),
        ns,
        name,
        get_script_prefix(),
        get_urlconf(),
    )


@lru_cache(maxsize=1024)
def _nav_parts(key: tuple) -> tuple[str, str, str]:
    """The menu's HTML for ``key`` split around the unread count: (before, before when the
    count is zero, after). Rendered in the caller's language, prefix and urlconf, which the
    key holds."""
    roles, congress_only, expert, audit, uses_api, _language, ns, name, _prefix, _urlconf = key
    html = get_template("includes/mainnav.html").render(
        {
            "user_roles": roles,
            "congress_only": congress_only,
            "nav_expert": expert,
            "nav_audit": audit,
            "uses_api": uses_api,
            "ns": ns,
            "name": name,
            "unread_notifications": _UNREAD,
        }
    )
    before, after = html.split(_UNREAD)
    at = before.rindex(_COUNT)
    return before, before[:at] + _COUNT_ZERO + before[at + len(_COUNT) :], after


@register.simple_tag(takes_context=True)
def main_nav(context) -> SafeString:
    """The main navigation for this request: the kept HTML of its key with the unread count."""
    before, before_zero, after = _nav_parts(nav_key(context))
    unread = context.get("unread_notifications")
    if not unread:
        return mark_safe(before_zero + "0" + after)
    return mark_safe(before + str(conditional_escape(localize(unread))) + after)


class KeptNode(template.Node):
    """``{% kept %}…{% endkept %}``: a fragment of base.html that reads nothing of the
    request — translated text, static and reversed URLs, includes of such — rendered once
    per (language, script prefix, urlconf, autoescape) and kept on the node (as long as the
    compiled template lives). The body is rendered in an **empty** context, so it cannot
    depend on anything else: a variable there would render empty on every page (the pages'
    tests would show it), never one user's value for another. Nothing to invalidate."""

    def __init__(self, nodelist) -> None:
        self.nodelist = nodelist
        self.kept: dict[tuple, SafeString] = {}

    def render(self, context) -> SafeString:
        key = (get_language(), get_script_prefix(), get_urlconf(), context.autoescape)
        html = self.kept.get(key)
        if html is None:
            html = mark_safe(self.nodelist.render(context.new()))
            self.kept[key] = html
        return html


@register.tag("kept")
def kept(parser, token) -> KeptNode:
    nodelist = parser.parse(("endkept",))
    parser.delete_first_token()
    return KeptNode(nodelist)
