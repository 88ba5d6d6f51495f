"""Form widgets drawn in Python rather than through the form renderer's templates.

Django draws a <select> by rendering one template include per option (and another for
its attributes): the project list's and the deadline board's 预算部门 filters (a district's
77 departments) cost more than the rest of those forms together (issue 20's profile of
the pages). ``FastSelect`` writes the very same HTML as Django's
``django/forms/widgets/select.html`` with ``format_html`` — the tests compare the two.
"""

from __future__ import annotations

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


class FastSelect(forms.Select):
    """A ``forms.Select`` whose HTML is built in Python (the same HTML as the template)."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        if (
            self.template_name != forms.Select.template_name
            or self.option_template_name != forms.Select.option_template_name
        ):
            return super().render(name, value, attrs, renderer)
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
