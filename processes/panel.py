"""The review panel draw (专家抽取) of DESIGN §3.2: pure rules, no I/O.

A panel is drawn at random from the candidates — active experts whose specialty fits the
project's category, and deputies — excluding anyone from the project's department,
anyone who declared a conflict with it, and the commissioned agency's own staff. Its
make-up follows `PanelRules` (settings). The draw is a function of the candidate pool
and the seed alone, so storing both lets anyone replay it exactly.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from django.utils.translation import gettext as _

EXPERT: Literal["expert"] = "expert"
DEPUTY: Literal["deputy"] = "deputy"


@dataclass(frozen=True)
class Candidate:
    """One library member as the draw sees them."""

    user_id: int
    kind: Literal["expert", "deputy"]
    specialties: frozenset[str] = frozenset()
    department_id: int | None = None
    conflict_department_ids: frozenset[int] = frozenset()
    agency_id: int | None = None
    active: bool = True


@dataclass(frozen=True)
class DrawContext:
    """What the draw is for: the project's category and department, the commissioned agency."""

    category: str
    department_id: int
    agency_id: int | None


@dataclass(frozen=True)
class PanelRules:
    """Size and make-up (settings JIXIAO["PANEL"]). Sector experts are experts whose
    specialties include the project's category; `general_specialties` (e.g. 财务) fit any
    project but do not count as sector experts."""

    size: int = 5
    min_experts: int = 3
    min_deputies: int = 1
    sector_share: Decimal = Decimal("0.5")
    general_specialties: frozenset[str] = field(default_factory=lambda: frozenset({"finance"}))

    @classmethod
    def from_settings(cls) -> PanelRules:
        from django.conf import settings

        conf = settings.JIXIAO["PANEL"]
        return cls(
            size=conf["size"],
            min_experts=conf["min_experts"],
            min_deputies=conf["min_deputies"],
            sector_share=Decimal(conf["sector_share"]),
            general_specialties=frozenset(conf["general_specialties"]),
        )

    @property
    def min_sector_experts(self) -> int:
        return math.ceil(self.size * self.sector_share)

    def check(self) -> None:
        """Refuse rules no panel could satisfy, whatever the pool."""
        if self.size < 1 or self.min_experts < 0 or self.min_deputies < 0:
            raise ValueError("panel size must be positive and minimums non-negative")
        if self.min_deputies + max(self.min_experts, self.min_sector_experts) > self.size:
            raise ValueError("panel minimums exceed its size")


class PanelRuleFailed(Exception):
    """The pool cannot satisfy a rule; ``rule`` names it, ``message`` says it for people."""

    def __init__(self, rule: str, message: str):
        self.rule = rule
        self.message = message
        super().__init__(message)


def exclusion(candidate: Candidate, ctx: DrawContext, rules: PanelRules) -> str | None:
    """Why ``candidate`` may not sit on this panel, or None if they may."""
    if not candidate.active:
        return "inactive"
    if candidate.department_id is not None and candidate.department_id == ctx.department_id:
        return "same_department"
    if ctx.department_id in candidate.conflict_department_ids:
        return "conflict"
    if ctx.agency_id is not None and candidate.agency_id == ctx.agency_id:
        return "agency_staff"
    if candidate.kind == EXPERT and not (candidate.specialties & ({ctx.category} | rules.general_specialties)):
        return "specialty"
    return None


def is_sector_expert(candidate: Candidate, ctx: DrawContext) -> bool:
    return candidate.kind == EXPERT and ctx.category in candidate.specialties


def eligible_pool(candidates: Iterable[Candidate], ctx: DrawContext, rules: PanelRules) -> list[Candidate]:
    """The candidates who may sit, in user-id order (the order the seed is applied to)."""
    return sorted((c for c in candidates if exclusion(c, ctx, rules) is None), key=lambda c: c.user_id)


def composition_problem(panel: Sequence[Candidate], ctx: DrawContext, rules: PanelRules) -> str | None:
    """The first rule ``panel`` breaks (a rule name), or None if it is a valid panel."""
    if len({c.user_id for c in panel}) != len(panel) or len(panel) != rules.size:
        return "size"
    if any(exclusion(c, ctx, rules) for c in panel):
        return "eligibility"
    if sum(c.kind == DEPUTY for c in panel) < rules.min_deputies:
        return "min_deputies"
    if sum(c.kind == EXPERT for c in panel) < rules.min_experts:
        return "min_experts"
    if sum(is_sector_expert(c, ctx) for c in panel) < rules.min_sector_experts:
        return "sector_share"
    return None


def draw_panel(candidates: Iterable[Candidate], ctx: DrawContext, rules: PanelRules, seed: int) -> list[Candidate]:
    """Draw a panel. Same candidates (in any order) and seed → same panel.

    Raises PanelRuleFailed naming the first rule the pool cannot satisfy.
    """
    rules.check()
    pool = eligible_pool(candidates, ctx, rules)
    deputies = [c for c in pool if c.kind == DEPUTY]
    experts = [c for c in pool if c.kind == EXPERT]
    sector = [c for c in experts if is_sector_expert(c, ctx)]
    need_experts = max(rules.min_experts, rules.min_sector_experts)
    if len(deputies) < rules.min_deputies:
        raise PanelRuleFailed(
            "min_deputies",
            _("可抽取的人大代表只有 %(have)d 名，少于规定的 %(need)d 名。")
            % {"have": len(deputies), "need": rules.min_deputies},
        )
    if len(sector) < rules.min_sector_experts:
        raise PanelRuleFailed(
            "sector_share",
            _("专业对口的专家只有 %(have)d 名，少于规定的 %(need)d 名（不少于半数）。")
            % {"have": len(sector), "need": rules.min_sector_experts},
        )
    if len(experts) < need_experts:
        raise PanelRuleFailed(
            "min_experts",
            _("可抽取的专家只有 %(have)d 名，少于规定的 %(need)d 名。") % {"have": len(experts), "need": need_experts},
        )
    if len(pool) < rules.size:
        raise PanelRuleFailed(
            "size",
            _("符合条件的人选只有 %(have)d 名，不足评审组的 %(need)d 人。") % {"have": len(pool), "need": rules.size},
        )

    rng = random.Random(seed)
    panel = rng.sample(deputies, rules.min_deputies)
    panel += rng.sample(sector, rules.min_sector_experts)
    chosen = {c.user_id for c in panel}
    more_experts = [c for c in experts if c.user_id not in chosen]
    panel += rng.sample(more_experts, need_experts - rules.min_sector_experts)
    chosen = {c.user_id for c in panel}
    rest = [c for c in pool if c.user_id not in chosen]
    panel += rng.sample(rest, rules.size - len(panel))
    return panel


def draw_replacement(
    candidates: Iterable[Candidate],
    ctx: DrawContext,
    rules: PanelRules,
    seed: int,
    panel: Sequence[Candidate],
    leaving: Candidate,
) -> Candidate:
    """Draw who replaces ``leaving`` so that the panel still keeps every rule.

    Deterministic in (candidates, seed, panel, leaving). Raises PanelRuleFailed if no
    candidate outside the panel keeps the rules.
    """
    staying = [c for c in panel if c.user_id != leaving.user_id]
    sitting = {c.user_id for c in panel}
    pool = [c for c in eligible_pool(candidates, ctx, rules) if c.user_id not in sitting]
    random.Random(seed).shuffle(pool)
    for candidate in pool:
        if composition_problem([*staying, candidate], ctx, rules) is None:
            return candidate
    raise PanelRuleFailed("replacement", _("库中没有能替换该成员且仍满足组成规则的人选。"))
