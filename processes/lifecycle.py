"""Where a project is: the lifecycle diagram with its current stage and the path it took.

The picture is the committed docs/processes/project-lifecycle.svg, rendered by
``manage.py lifecycle_diagram`` from the FSM declared on ``BudgetProject.stage`` and
checked current in CI (``lifecycle_diagram --check``). No Graphviz is needed at run time:
the SVG is read once, and each page gets a copy whose node and edge groups — named by
Graphviz's ``<title>`` (``draft``, ``draft->submitted``) — carry CSS classes for the
stages visited, the edges taken and the current stage (decision 0019).

The path comes from the project's audit trail: every event on the project whose state
changed, in sequence order.
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from django.conf import settings
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .models import AuditEvent, BudgetProject
from .states import ProjectStage

SVG_PATH = Path(settings.BASE_DIR) / "docs" / "processes" / "project-lifecycle.svg"
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
_G = f"{{{SVG_NS}}}g"
_TITLE = f"{{{SVG_NS}}}title"
_TEXT = f"{{{SVG_NS}}}text"
START = "start"


@dataclass(frozen=True)
class Step:
    """One change of stage on the project's path."""

    from_stage: str
    to_stage: str
    action: str
    actor: str
    role: str
    occurred_at: datetime

    @property
    def from_label(self) -> str:
        return _stage_label(self.from_stage)

    @property
    def to_label(self) -> str:
        return _stage_label(self.to_stage)


def _stage_label(value: str) -> str:
    try:
        return str(ProjectStage(value).label)
    except ValueError:
        return value


def project_path(project: BudgetProject) -> list[Step]:
    """The project's changes of stage, oldest first, from its audit trail (one query)."""
    events = (
        AuditEvent.objects.filter(object_type=BudgetProject._meta.label_lower, object_id=str(project.pk))
        .exclude(to_state="")
        .select_related("actor")
        .order_by("sequence")
    )
    steps = []
    for e in events:
        if e.from_state == e.to_state:
            continue
        actor = str(e.actor) if e.actor else e.actor_username
        steps.append(Step(e.from_state, e.to_state, e.action, actor, e.actor_role, e.occurred_at))
    return steps


@cache
def _base_svg() -> ET.Element:
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    return ET.parse(SVG_PATH).getroot()


def _title(group: ET.Element) -> str:
    title = group.find(_TITLE)
    return (title.text or "").strip() if title is not None else ""


def lifecycle_svg(current: str, path: list[Step]) -> SafeString:
    """The lifecycle SVG, inline, with the path and the current stage marked by classes.

    Classes: ``lc-visited`` on stages the project passed through, ``lc-current`` on its
    stage, ``lc-taken`` on the edges it took, ``lc-other`` on everything else; edge labels
    (transition codes, in English) are dropped — the path list beside the picture says who
    did what.
    """
    visited = {START, ProjectStage.DRAFT.value, current}
    taken = {f"{START}->{ProjectStage.DRAFT.value}"}
    for step in path:
        if step.from_stage:
            visited.add(step.from_stage)
            taken.add(f"{step.from_stage}->{step.to_stage}")
        visited.add(step.to_stage)
    root = copy.deepcopy(_base_svg())
    # size by the page's CSS, keep the drawing's own proportions
    for attr in ("width", "height"):
        root.attrib.pop(attr, None)
    root.set("class", "lifecycle-svg")
    root.set("role", "img")
    root.set("aria-labelledby", "lifecycle-svg-title")
    root.set("preserveAspectRatio", "xMidYMid meet")
    zh = (get_language() or "zh-hans").lower().startswith("zh")
    # the docs' picture says "草稿 / draft" in each box; the page shows the label alone
    graph = root.find(_G)
    if graph is None:  # pragma: no cover — a Graphviz SVG always has its graph group
        return mark_safe("")
    for child in list(graph):
        if child.tag == _TITLE:
            child.text = _("项目生命周期图：当前阶段为「%(stage)s」") % {"stage": _stage_label(current)}
            child.set("id", "lifecycle-svg-title")
        elif child.tag == _TEXT:  # the graph's caption, for the docs
            graph.remove(child)
        elif child.tag == _G:
            kind = child.get("class", "")
            name = _title(child)
            if kind == "edge":
                for text in child.findall(_TEXT):
                    child.remove(text)
                mark = "lc-taken" if name in taken else "lc-other"
            elif kind == "node":
                mark = "lc-current" if name == current else "lc-visited" if name in visited else "lc-other"
                texts = child.findall(_TEXT)
                if len(texts) == 2:  # label and code: one line, the label in the page's language
                    first, code = texts
                    if not zh:
                        first.text = _stage_label(name)
                    middle = (float(first.get("y", "0")) + float(code.get("y", "0"))) / 2
                    first.set("y", f"{middle + 4:.2f}")
                    child.remove(code)
                child.set("data-stage", name)
            else:
                continue
            child.set("class", f"{kind} {mark}")
    return mark_safe(ET.tostring(root, encoding="unicode"))  # our own file, re-serialised: no user text


def lifecycle_context(project: BudgetProject) -> dict:
    """What the project page's lifecycle panel shows."""
    path = project_path(project)
    return {"svg": lifecycle_svg(project.stage, path), "path": path, "current": project.stage}
