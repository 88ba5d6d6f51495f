"""Form widgets drawn in Python rather than through the form renderer's templates.

Django draws a <select> by rendering one template include per option (and another for
its attributes): the project list's and the deadline board's 预算部门 filters (a district's
77 departments) cost more than the rest of those forms together (issue 20's profile of
the pages). ``FastSelect`` writes the very same HTML as Django's
``django/forms/widgets/select.html`` with ``format_html`` — the tests compare the two —
and keeps it: a ``<select>``'s HTML is a pure function of its name, its attributes, the
selected values and the *text* of its choices, so it is kept per process under a key made
of exactly those (``_select_key``). The choices' text is in the key, not a reference to
where it came from: a department renamed, added or removed, or another language (labels
are read in the active one), makes another key, so **nothing needs invalidating** and
every process stays right whoever wrote. Building the key reads the choices once (a
queryset's rows are read once per page, as before) but creates no option dicts and
escapes nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from django import forms
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html: `` name="value"`` each, ``True`` as a bare name,
    ``False`` left out."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {conditional_escape(name)}")
        else:
            parts.append(f' {conditional_escape(name)}="{conditional_escape(str(value))}"')
    return "".join(parts)


def _text(value: Any) -> Hashable:
    """How ``conditional_escape`` will treat ``value`` in the HTML: its text, marked when it
    is already HTML (``__html__``), which is then not escaped."""
    if type(value) is str:
        return value
    if hasattr(value, "__html__"):
        return ("html", str(value.__html__()))
    return str(value)


def _attr(value: Any) -> Hashable:
    """An attribute's value as ``_attrs`` draws it: ``True`` bare, ``False`` left out (kept
    apart from 1 and 0, which compare equal to them)."""
    if value is True or value is False:
        return ("bool", value)
    return _text(str(value))


#: Selects' HTML by ``_select_key``, oldest out first beyond ``SELECTS_KEPT``.
_kept: OrderedDict[Hashable, SafeString] = OrderedDict()
_kept_lock = threading.Lock()
SELECTS_KEPT = 256


def clear_kept_selects() -> None:
    with _kept_lock:
        _kept.clear()


class FastSelect(forms.Select):
    """A ``forms.Select`` whose HTML is built in Python (the same HTML as the template) and
    kept per process under a key of everything it is drawn from (see the module's doc)."""

    #: how many selects were drawn rather than taken from the store (tests read it)
    drawn = 0

    def _select_key(self, name, value, attrs, choices: list) -> Hashable:
        """Everything ``_draw`` reads, as text: the name, the final attributes, the selected
        values and each choice's value and label (a group's choices in turn). ``optgroups``
        reads a top-level ``None`` value as "" and compares ``str(value)`` with the selected
        values; the HTML writes ``conditional_escape(str(value))`` and the label escaped."""
        final = self.build_attrs(self.attrs, attrs)
        frozen: list[Hashable] = []
        for option_value, option_label in choices:
            if option_value is None:
                option_value = ""
            if isinstance(option_label, (list, tuple)):
                group = tuple((_text(str(v)), _text(label)) for v, label in option_label)
                frozen.append(("group", _text(option_value), group))
            else:
                frozen.append((_text(str(option_value)), _text(option_label)))
        return (
            name,
            tuple((key, _attr(v)) for key, v in final.items()),
            tuple(self.format_value(value)),
            self.allow_multiple_selected,
            tuple(frozen),
        )

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        if (
            self.template_name != forms.Select.template_name
            or self.option_template_name != forms.Select.option_template_name
        ):
            return super().render(name, value, attrs, renderer)
        self.choices = choices = list(self.choices)  # read once (a queryset's rows), drawn from the list
        key = self._select_key(name, value, attrs, choices)
        html = _kept.get(key)
        if html is None:
            html = self._draw(name, value, attrs)
            FastSelect.drawn += 1
            with _kept_lock:
                _kept[key] = html
                while len(_kept) > SELECTS_KEPT:
                    _kept.popitem(last=False)
        return html

    def _draw(self, name, value, attrs) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        out = [format_html('<select name="{}"', widget["name"]), _attrs(widget["attrs"]), ">"]
        for group_name, group_choices, _index in widget["optgroups"]:
            if group_name:
                out.append(format_html('\n  <optgroup label="{}">', group_name))
            for option in group_choices:
                out.append(
                    f'\n  <option value="{conditional_escape(str(option["value"]))}"'
                    f"{_attrs(option['attrs'])}>{conditional_escape(option['label'])}</option>\n"
                )
            if group_name:
                out.append("\n  </optgroup>")
        out.append("\n</select>")
        return mark_safe("".join(out))  # noqa: S308 — every value above is escaped


class _FastInput:
    """Mixed into an ``Input`` widget: the HTML of ``django/forms/widgets/input.html`` (with
    ``attrs.html``) written in Python — the same text (tests compare it with Django's)."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        base = next(c for c in type(self).__mro__ if c.__module__ == "django.forms.widgets")
        if self.template_name != base.template_name:  # type: ignore[attr-defined]
            return super().render(name, value, attrs, renderer)  # type: ignore[misc]
        widget = self.get_context(name, value, attrs)["widget"]  # type: ignore[attr-defined]
        out: list[str] = [format_html('<input type="{}" name="{}"', widget["type"], widget["name"])]
        if widget["value"] is not None:
            out.append(f' value="{conditional_escape(widget["value"])}"')
        out.append(_attrs(widget["attrs"]))
        out.append(">")
        return mark_safe("".join(out))  # noqa: S308 — every value above is escaped


class FastTextInput(_FastInput, forms.TextInput):
    """A ``forms.TextInput`` written in Python (the project list's 搜索)."""


class FastNumberInput(_FastInput, forms.NumberInput):
    """A ``forms.NumberInput`` written in Python (the project list's 预算年度)."""
