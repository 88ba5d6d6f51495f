"""Property tests of the panel draw (DESIGN §3.2): eligibility, composition, replay."""

import math
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processes.panel import (
    DEPUTY,
    EXPERT,
    Candidate,
    DrawContext,
    PanelRuleFailed,
    PanelRules,
    composition_problem,
    draw_panel,
    draw_replacement,
    exclusion,
    is_sector_expert,
)

SPECIALTIES = ["infrastructure", "urban", "education", "health", "finance"]
CTX = DrawContext(category="infrastructure", department_id=1, agency_id=10)


@st.composite
def candidates(draw):
    n = draw(st.integers(min_value=0, max_value=25))
    ids = draw(st.lists(st.integers(min_value=1, max_value=10_000), min_size=n, max_size=n, unique=True))
    return [
        Candidate(
            user_id=uid,
            kind=draw(st.sampled_from([EXPERT, EXPERT, DEPUTY])),
            specialties=frozenset(draw(st.lists(st.sampled_from(SPECIALTIES), max_size=3))),
            department_id=draw(st.sampled_from([None, 1, 2, 3])),
            conflict_department_ids=frozenset(draw(st.lists(st.sampled_from([1, 2, 3]), max_size=2))),
            agency_id=draw(st.sampled_from([None, None, 10, 11])),
            active=draw(st.booleans() | st.just(True)),
        )
        for uid in ids
    ]


@st.composite
def rules(draw):
    size = draw(st.integers(min_value=1, max_value=7))
    deputies = draw(st.integers(min_value=0, max_value=size))
    experts = draw(st.integers(min_value=0, max_value=size - deputies))
    share = draw(st.sampled_from([Decimal("0"), Decimal("0.5"), Decimal("0.34")]))
    result = PanelRules(size=size, min_experts=experts, min_deputies=deputies, sector_share=share)
    if deputies + max(experts, result.min_sector_experts) > size:
        result = PanelRules(size=size, min_experts=experts, min_deputies=deputies, sector_share=Decimal("0"))
    return result


def satisfiable(pool, ctx, r) -> bool:
    """Counted independently of the draw: does any valid panel exist in this pool?"""
    ok = [c for c in pool if exclusion(c, ctx, r) is None]
    deputies = sum(c.kind == DEPUTY for c in ok)
    experts = sum(c.kind == EXPERT for c in ok)
    sector = sum(is_sector_expert(c, ctx) for c in ok)
    return (
        deputies >= r.min_deputies
        and sector >= r.min_sector_experts
        and experts >= max(r.min_experts, r.min_sector_experts)
        and len(ok) >= r.size
    )


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(pool=candidates(), r=rules(), seed=st.integers(min_value=0, max_value=2**63))
def test_panel_keeps_every_rule_or_names_the_failed_one_when_drawn(pool, r, seed):
    try:
        panel = draw_panel(pool, CTX, r, seed)
    except PanelRuleFailed as failure:
        assert not satisfiable(pool, CTX, r), f"draw failed on '{failure.rule}' but a panel exists"
        assert failure.rule in {"min_deputies", "sector_share", "min_experts", "size"}
        return
    assert satisfiable(pool, CTX, r)
    assert composition_problem(panel, CTX, r) is None
    for member in panel:
        assert member.active
        assert member.department_id != CTX.department_id
        assert CTX.department_id not in member.conflict_department_ids
        assert member.agency_id != CTX.agency_id


@settings(max_examples=200)
@given(pool=candidates(), r=rules(), seed=st.integers(min_value=0, max_value=2**63), data=st.data())
def test_same_seed_and_pool_give_same_panel_when_replayed_in_any_order(pool, r, seed, data):
    shuffled = data.draw(st.permutations(pool))
    try:
        first = draw_panel(pool, CTX, r, seed)
    except PanelRuleFailed as failure:
        with pytest.raises(PanelRuleFailed) as again:
            draw_panel(shuffled, CTX, r, seed)
        assert again.value.rule == failure.rule
        return
    assert draw_panel(shuffled, CTX, r, seed) == first


@settings(max_examples=200)
@given(pool=candidates(), seed=st.integers(min_value=0, max_value=2**63), data=st.data())
def test_replacement_keeps_the_rules_when_a_member_leaves(pool, seed, data):
    r = PanelRules()
    try:
        panel = draw_panel(pool, CTX, r, seed)
    except PanelRuleFailed:
        return
    leaving = data.draw(st.sampled_from(panel))
    try:
        newcomer = draw_replacement(pool, CTX, r, seed + 1, panel, leaving)
    except PanelRuleFailed:
        return
    new_panel = [c for c in panel if c.user_id != leaving.user_id] + [newcomer]
    assert newcomer.user_id not in {c.user_id for c in panel}
    assert composition_problem(new_panel, CTX, r) is None
    assert draw_replacement(pool, CTX, r, seed + 1, panel, leaving) == newcomer


def test_default_rules_are_five_with_three_experts_one_deputy_and_half_sector():
    r = PanelRules()
    assert (r.size, r.min_experts, r.min_deputies, r.min_sector_experts) == (5, 3, 1, math.ceil(2.5))


def test_draw_names_the_deputy_rule_when_no_deputy_is_eligible():
    pool = [Candidate(i, EXPERT, frozenset({"infrastructure"})) for i in range(1, 9)]
    pool.append(Candidate(99, DEPUTY, department_id=CTX.department_id))  # same department: excluded
    with pytest.raises(PanelRuleFailed) as failure:
        draw_panel(pool, CTX, PanelRules(), seed=7)
    assert failure.value.rule == "min_deputies"
    assert "人大代表" in failure.value.message


def test_finance_expert_fits_but_is_not_sector_expert_when_category_differs():
    finance = Candidate(1, EXPERT, frozenset({"finance"}))
    assert exclusion(finance, CTX, PanelRules()) is None
    assert not is_sector_expert(finance, CTX)
    teacher = Candidate(2, EXPERT, frozenset({"education"}))
    assert exclusion(teacher, CTX, PanelRules()) == "specialty"


def test_rules_that_no_panel_could_meet_are_refused_when_checked():
    with pytest.raises(ValueError):
        PanelRules(size=3, min_experts=3, min_deputies=1).check()


def test_rules_come_from_settings_when_configured(settings):
    settings.JIXIAO = {**settings.JIXIAO, "PANEL": {**settings.JIXIAO["PANEL"], "size": 7, "min_deputies": 2}}
    r = PanelRules.from_settings()
    assert (r.size, r.min_deputies, r.min_experts, r.min_sector_experts) == (7, 2, 3, 4)
    assert r.general_specialties == frozenset({"finance"})
