"""The one transition engine: how every state machine of every model is declared, and the
one way a transition is applied.

**Declaration.** Each ``@transition`` of every FSM field carries, in django-fsm-2's own
``permission=`` and ``custom=``, everything the rest of the system reads about it::

    @transition(
        field=status, source=RectificationStatus.ISSUED, target=RectificationStatus.ACKNOWLEDGED,
        permission=perms.can_fill_rectification,
        custom=declare(_("签收"), roles=[Role.DEPT_STAFF, Role.DEPT_LEADER], tells=notices.finance_section),
    )
    def acknowledge(self): ...

``roles`` are the roles that may take it (with ``permission`` deciding per object); the
role recorded in the audit trail is the one of those the actor holds, derived here and
never written by a caller. ``tells`` says who is told what, or ``silent`` says, with a
reason, why nobody is. ``system(...)`` declares a transition no person takes from a
button: another transition's service applies it, in the same transaction, under the
same actor and role. A transition with no declaration fails ``tests/processes/
test_transitions.py``; buttons, the API's available actions, the generated docs and the
tests all read the declaration.

**Application.** :func:`apply` is the only path: lock (project row → the record's row →
the flow process → the audit chain head), check the permission, the source state and the
conditions, run the transition, save, run the flow step that ``workflows`` registered for
it (so nobody can move a state and leave its task open), write one audit row, and raise
the declared notices (rows in this transaction, delivery after commit; a rollback leaves
none). Services call it; nothing else moves a state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, partial
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models.query import MAX_GET_RESULTS
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_fsm import FSMFieldMixin, can_proceed, get_available_FIELD_transitions

from config.prepared import PreparedModels

from .errors import ActionNotAllowed
from .services.records import save_versioned

if TYPE_CHECKING:
    from django_fsm import Transition
    from django_stubs_ext import StrOrPromise

    from accounts.models import User
    from notifications.services import Message


@dataclass(frozen=True)
class Step:
    """One applied transition, as notices and flow steps see it."""

    obj: Any
    name: str
    actor: User | None
    role: str
    from_state: str
    to_state: str
    comment: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)


#: Who is told what about a step: {user: message}. The actor is never told of their own step.
Tells = Callable[[Step], Mapping["User", "Message"]]


def declare(
    label: StrOrPromise,
    *,
    roles: Iterable[str],
    tells: Tells | None = None,
    silent: StrOrPromise | None = None,
    needs_reason: bool | StrOrPromise = False,
    style: str = "primary",
    audit: str = "",
) -> dict[str, Any]:
    """The ``custom=`` of a transition a person takes (a button, an API action).
    ``needs_reason`` may be the message asking for the reason (e.g. 「请填写退回理由。」)."""
    return _declaration(
        label, roles=tuple(roles), tells=tells, silent=silent, needs_reason=needs_reason, style=style, audit=audit
    )


def system(label: StrOrPromise, *, tells: Tells | None = None, silent: StrOrPromise | None = None, audit: str = ""):
    """The ``custom=`` of a transition another step applies (never a button): it is
    recorded under the actor and role of the step that caused it."""
    return {**_declaration(label, roles=(), tells=tells, silent=silent, audit=audit), "action": False}


def unless_flow(tells: Tells) -> Tells:
    """Mark a ``tells`` that names the next task's holders: where a flow step is registered
    and tells them itself (with the task's title and due date), the declared notice is not
    computed at all — one query fewer per step, and still declared for the docs and tests
    (and used where no flow runs, e.g. records imported from history)."""
    tells.unless_flow = True  # type: ignore[attr-defined]
    return tells


def _declaration(label, *, roles, tells, silent, needs_reason=False, style="primary", audit="") -> dict[str, Any]:
    if (tells is None) == (silent is None):
        raise ImproperlyConfigured(f"Transition {label!r}: declare exactly one of tells= or silent= (with its reason).")
    return {
        "declared": True,
        "action": True,
        "label": label,
        "roles": roles,
        "role": roles[0] if roles else "",
        "tells": tells,
        "silent": silent,
        "needs_reason": needs_reason,
        "style": style,
        "audit": audit,
    }


# -- the registry: every transition of every FSM field ------------------------------------


@dataclass(frozen=True)
class Declared:
    """A transition and its declaration, as the engine, the screens and the docs read it."""

    model: type[models.Model]
    field: str
    transition: Transition

    @property
    def name(self) -> str:
        return self.transition.name

    @property
    def custom(self) -> dict[str, Any]:
        return self.transition.custom

    @property
    def declared(self) -> bool:
        return bool(self.custom.get("declared"))

    @property
    def label(self) -> StrOrPromise:
        return self.custom["label"]

    @property
    def roles(self) -> tuple[str, ...]:
        return self.custom["roles"]

    @property
    def is_action(self) -> bool:
        return bool(self.custom.get("action"))

    @property
    def needs_reason(self) -> bool:
        return bool(self.custom.get("needs_reason"))

    @property
    def reason_prompt(self) -> StrOrPromise:
        """What a refusal without the reason says: ``needs_reason`` may be that message."""
        needs = self.custom.get("needs_reason")
        return needs if needs and needs is not True else _("请填写理由。")

    @property
    def style(self) -> str:
        return self.custom.get("style", "primary")

    @property
    def audit_action(self) -> str:
        return self.custom.get("audit") or self.name

    def permitted(self, obj: models.Model, user: User) -> bool:
        """The declared ``permission=`` (role and, per object, department or panel seat)."""
        return bool(self.transition.has_perm(obj, user))


def fsm_fields(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.get_fields() if isinstance(f, FSMFieldMixin)]


@cache
def declared_transitions() -> tuple[Declared, ...]:
    """Every transition of every FSM field of every installed model, each once."""
    found: list[Declared] = []
    for model in apps.get_models():
        for fsm_field in fsm_fields(model):
            seen: set[str] = set()
            for t in fsm_field.get_all_transitions(model):  # type: ignore[attr-defined]
                if t.name not in seen:
                    seen.add(t.name)
                    found.append(Declared(model, fsm_field.name, t))
    return tuple(found)


def transitions_of(model: type[models.Model]) -> list[Declared]:
    return [d for d in declared_transitions() if d.model is model]


def declared(model: type[models.Model], name: str) -> Declared:
    for d in transitions_of(model):
        if d.name == name:
            if not d.declared:
                raise ImproperlyConfigured(
                    f"{model.__name__}.{name} has no declaration (processes.transitions.declare)."
                )
            return d
    raise ActionNotAllowed(_("未知的操作：%(name)s") % {"name": name})


def sources_of(model: type[models.Model], name: str) -> list[str]:
    """Every source state of a transition (django-fsm keeps one Transition per source)."""
    out: list[str] = []
    for fsm_field in fsm_fields(model):
        for t in fsm_field.get_all_transitions(model):  # type: ignore[attr-defined]
            if t.name == name and t.source not in out:
                out.append(t.source)
    return out


def available(obj: models.Model, user: User) -> list[Declared]:
    """The transitions ``user`` may take on ``obj`` now from a screen or the API: a person's
    action, allowed from the current state, permitted, its conditions met."""
    out = []
    for fsm_field in fsm_fields(type(obj)):
        for t in get_available_FIELD_transitions(obj, fsm_field):  # type: ignore[arg-type]
            if t.custom.get("action") and t.has_perm(obj, user):
                out.append(declared(type(obj), t.name))
    return out


# -- flow steps registered by workflows ------------------------------------------------

FlowStep = Callable[[Step], Mapping["User", "Message"]]
_FLOW_STEPS: dict[tuple[str, str], FlowStep] = {}


def register_flow_step(model: type[models.Model], name: str, step: FlowStep) -> None:
    """Run ``step`` inside every application of ``model.name``, after the save and before
    the audit row (the flow lock comes after the record's, before the chain head's). It
    moves the flow and returns what the next actors are told. Registered by
    ``workflows.apps`` at start-up, so ``processes`` never imports ``workflows``."""
    declared(model, name)  # a step for an undeclared transition is a start-up error
    _FLOW_STEPS[(model._meta.label_lower, name)] = step


def flow_step_of(model: type[models.Model], name: str) -> FlowStep | None:
    return _FLOW_STEPS.get((model._meta.label_lower, name))


# -- bulk starts registered by workflows (issue 17, evaluation helper) ---------------------
#: A launch that issues many records in one statement (a self-evaluation campaign) starts
#: their flows in bulk through the start ``workflows`` registered under the launch's kind,
#: inside the launch's transaction: calling the launch service directly starts them too.
BulkStart = Callable[..., None]
_BULK_STARTS: dict[str, BulkStart] = {}


def register_bulk_start(kind: str, start: BulkStart) -> None:
    _BULK_STARTS[kind] = start


def bulk_start_of(kind: str) -> BulkStart | None:
    return _BULK_STARTS.get(kind)


# -- roles -----------------------------------------------------------------------------


def acting_role(actor: User | None, roles: Iterable[str]) -> str:
    """The role ``actor`` acts in: the first of the transition's ``roles`` they hold, else
    (an administrator's override, a system step) the first role they hold at all."""
    if actor is None:
        return "system"
    from accounts.roles import Role

    held = actor.role_names
    for role in roles:
        if role in held:
            return role
    return next((r for r in Role.values if r in held), "")


def msgid(label) -> str:
    """The untranslated message id of a lazy label, for notifications translated when read."""
    with translation.override(None):
        return str(label)


# -- applying --------------------------------------------------------------------------


def lock(obj: models.Model) -> models.Model:
    """Re-read ``obj`` under a row lock, after its project's row (the one lock order).

    A database without row locks (SQLite: the transaction's BEGIN IMMEDIATE already holds
    the one write lock) gets no project statement: there it would be a bare existence
    check whose answer nobody reads."""
    model = type(obj)
    project_id = getattr(obj, "project_id", None)
    if project_id is not None and transaction.get_connection().features.has_select_for_update:
        from .models import BudgetProject

        BudgetProject.objects.select_for_update().filter(pk=project_id).exists()
    prepared = _LOCKED.get(model)
    if prepared is None:
        prepared = _LOCKED[model] = PreparedModels(partial(_locked_query, model), pk=int)
    found = prepared(pk=obj.pk)
    if not found:
        raise model.DoesNotExist(  # type: ignore[attr-defined]
            f"{model._meta.object_name} matching query does not exist."
        )
    return found[0]


#: lock()'s query of each model, compiled once (it runs in every transition)
_LOCKED: dict[type[models.Model], PreparedModels] = {}


def _locked_query(model: type[models.Model], pk: int) -> models.QuerySet:
    """``model``'s row ``pk`` under a row lock, with its ``lock_related`` rows — as
    ``get(pk=…)`` reads it (no ordering, at most MAX_GET_RESULTS rows)."""
    related = getattr(model, "lock_related", ())
    query = model._default_manager.select_for_update(of=("self",))
    if related:
        query = query.select_related(*related)
    return query.filter(pk=pk).order_by()[:MAX_GET_RESULTS]


def _state_refusal(obj: models.Model, d: Declared) -> str:
    own = getattr(obj, "state_refusal", None)
    if own is not None:
        return own(d.label)
    display = getattr(obj, f"get_{d.field}_display")()
    return _("%(what)s当前为「%(state)s」，不能执行「%(action)s」。") % {
        "what": obj._meta.verbose_name,
        "state": display,
        "action": d.label,
    }


def check(obj: models.Model, name: str, *, actor: User | None, comment: str = "") -> Declared:
    """Whether ``actor`` may take ``name`` on ``obj`` (already locked) now; raises
    PermissionDenied, ActionNotAllowed or ValidationError with the actor's message."""
    d = declared(type(obj), name)
    method = getattr(obj, name)
    if d.is_action and (actor is None or not d.permitted(obj, actor)):
        raise PermissionDenied(_("您没有权限执行「%(action)s」。") % {"action": d.label})
    if not can_proceed(method, check_conditions=False):
        raise ActionNotAllowed(_state_refusal(obj, d))
    if not can_proceed(method):
        refusal = getattr(obj, f"refusal_{name}", None)
        raise ActionNotAllowed(refusal() if refusal else _("当前条件下不能执行「%(action)s」。") % {"action": d.label})
    if d.needs_reason and not (comment or "").strip():
        raise ValidationError({"comment": d.reason_prompt})
    return d


def apply(
    obj: models.Model,
    name: str,
    *,
    actor: User | None,
    comment: str = "",
    arguments: Mapping[str, Any] | None = None,
    validate: Callable[[Any], None] | None = None,
    before_save: Callable[[Any], None] | None = None,
    detail: Mapping[str, Any] | None = None,
    told: Mapping[User, Message] | None = None,
    role: str | None = None,
    locked: bool = False,
) -> Any:
    """Apply transition ``name`` of ``obj`` for ``actor``, the one way (see the module).

    ``validate(obj)`` runs under the lock after the engine's checks (a report's
    completeness); ``before_save(obj)`` after the transition (a timestamp, a counter);
    ``told`` adds messages a service composes beyond the declared ones; ``role`` is only
    for ``system`` transitions, which inherit the causing step's role. Returns the saved
    object (a fresh instance: use the return value).
    """
    with transaction.atomic():
        if not locked:
            obj = lock(obj)
        d = check(obj, name, actor=actor, comment=comment)
        if role is not None and d.is_action:
            raise ImproperlyConfigured(
                f"{name}: a person's transition derives its role; only system() ones inherit one"
            )
        if validate is not None:
            validate(obj)
        comment = (comment or "").strip()
        from_state = getattr(obj, d.field)
        getattr(obj, name)(**(arguments or {}))
        if before_save is not None:
            before_save(obj)
        save_versioned(obj, counter=getattr(obj, "version_counter", "revision"))
        step = Step(
            obj=obj,
            name=name,
            actor=actor,
            role=role if role is not None else acting_role(actor, d.roles),
            from_state=from_state,
            to_state=getattr(obj, d.field),
            comment=comment,
            detail=dict(detail or {}),
        )
        flow_step = flow_step_of(type(obj), name)
        # The flow step runs before the audit row (see the lock order); its next-actor
        # notices (with the task's due date) win over the declared ones for the same people.
        by_flow = dict(flow_step(step)) if flow_step is not None else {}
        tells = d.custom["tells"]
        messages: dict[User, Message] = {}
        if tells is not None and not (by_flow and getattr(tells, "unless_flow", False)):
            messages.update(tells(step))
        messages.update(by_flow)
        messages.update(told or {})
        record(step, action=d.audit_action, messages=messages)
        return obj


def record(step: Step, *, action: str, messages: Mapping[User, Message]) -> None:
    """The audit row of ``step`` and its notices under the row's key (nobody told twice)."""
    from notifications.services import board_changed, notify

    from .services.audit import audit_record

    obj = step.obj
    event = audit_record(
        obj=obj,
        action=action,
        actor=step.actor,
        role=step.role,
        from_state=step.from_state,
        to_state=step.to_state,
        comment=step.comment,
        detail={**audit_detail(obj), **step.detail},
    )
    recipients = {u: m for u, m in messages.items() if u is not None and u != step.actor}
    if recipients:
        notify(
            messages=recipients,
            event_key=f"audit:{event.sequence}",
            url=obj.get_absolute_url(),
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
        )
    board_changed(action)


def audit_detail(obj: models.Model) -> dict[str, Any]:
    """What every audit row of ``obj`` carries besides the step's own detail."""
    detail = getattr(obj, "audit_detail", None)
    return detail() if callable(detail) else {}


# == bulk: one declared transition applied to many items (decision 0023) ==================
#: Everything below is the bulk variant of :func:`apply`: the same declaration, the same
#: checks per item, the same audit rows and flow moves, in a number of statements that
#: does not grow with the number of items. ``apply`` above stays the single path.

BulkFlowStep = Callable[[list[Step]], list[Mapping["User", "Message"]]]
_BULK_FLOW_STEPS: dict[tuple[str, str], BulkFlowStep] = {}

#: The job phase while a bulk action applies its transition (a message id).
PHASE_APPLY = gettext_noop("批量办理")
#: The refusal of an item that someone else moved between its selection and its lock.
TAKEN_MESSAGE = gettext_noop("已被他人处理")


def register_bulk_flow_step(model: type[models.Model], name: str, step: BulkFlowStep) -> None:
    """The bulk twin of :func:`register_flow_step`: ``step(steps)`` moves the flow of every
    applied item at once (constant statements) and returns, per step in order, what the
    next actors are told. A transition with a single flow step and no bulk one cannot be
    applied in bulk (``apply_many`` raises ImproperlyConfigured): the flow is never skipped."""
    declared(model, name)
    _BULK_FLOW_STEPS[(model._meta.label_lower, name)] = step


def bulk_flow_step_of(model: type[models.Model], name: str) -> BulkFlowStep | None:
    return _BULK_FLOW_STEPS.get((model._meta.label_lower, name))


@dataclass
class BulkOutcome:
    """What :func:`apply_many` did: the saved objects, and each refused item with its reason
    (left untouched)."""

    done: list[Any] = field(default_factory=list)
    refused: list[tuple[Any, str]] = field(default_factory=list)

    def extend(self, other: BulkOutcome) -> None:
        self.done.extend(other.done)
        self.refused.extend(other.refused)


def _refusal_message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(str(m) for m in exc.messages)
    message = getattr(exc, "message", None)
    return str(message if message is not None else exc) or _("您没有权限执行此操作。")


def _lock_many(model: type[models.Model], pks: list[Any]) -> dict[Any, models.Model]:
    """The items' projects' rows, then the items' rows, under row locks in pk order (the
    engine's lock order, as :func:`lock` takes it for one item): two statements."""
    from .models import BudgetProject

    if model is not BudgetProject and any(f.name == "project" for f in model._meta.concrete_fields):
        project_ids = model._default_manager.filter(pk__in=pks).values("project_id")
        list(BudgetProject.objects.select_for_update().filter(pk__in=project_ids).order_by("pk").values_list("pk"))
    query = model._default_manager.select_for_update(of=("self",)).filter(pk__in=pks).order_by("pk")
    related = getattr(model, "lock_related", ())
    if related:
        query = query.select_related(*related)
    return {obj.pk: obj for obj in query}


def _changed_fields(before: Mapping[str, Any], obj: models.Model) -> set[str]:
    return {name for name, value in before.items() if getattr(obj, name) != value}


def _snapshot(obj: models.Model) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if not f.primary_key}


def _save_many(model: type[models.Model], objs: list[models.Model], changed: set[str], counter: str) -> None:
    """Save the changed fields of ``objs`` as ``save_versioned`` would (the version counter
    bumped, ``auto_now`` stamped): one ``UPDATE … SET …, counter = counter + 1 WHERE pk IN``
    when every item has the same new values (a transition usually sets the same state,
    comment and stamp on all), else one ``bulk_update`` (a CASE per field; Django builds
    and compiles one expression per item and field, several times slower)."""
    from django.db.models import F
    from django.utils import timezone

    now = timezone.now()
    for f in model._meta.concrete_fields:
        if getattr(f, "auto_now", False):
            for obj in objs:
                setattr(obj, f.attname, now)
            changed.add(f.attname)
    has_counter = any(f.attname == counter for f in model._meta.concrete_fields)
    fields = sorted(changed - {counter})
    try:
        distinct = {tuple(getattr(obj, a) for a in fields) for obj in objs}
    except TypeError:  # an unhashable value (a JSON field): per item
        distinct = {(), ()} if len(objs) > 1 else set()
    if len(distinct) <= 1:
        values: dict[str, Any] = {a: getattr(objs[0], a) for a in fields}
        if has_counter:
            values[counter] = F(counter) + 1
        model._default_manager.filter(pk__in=[o.pk for o in objs]).update(**values)
        return
    names = {f.attname: f.name for f in model._meta.concrete_fields}
    model._default_manager.bulk_update(objs, sorted(names[a] for a in changed | ({counter} if has_counter else set())))


def apply_many(
    objs: Iterable[models.Model],
    name: str,
    *,
    actor: User | None,
    comment: str = "",
    arguments: Mapping[str, Any] | Callable[[Any], Mapping[str, Any]] | None = None,
    before_save: Callable[[Any], None] | None = None,
    detail: Callable[[Any], Mapping[str, Any]] | None = None,
    after: Callable[[list[Step]], None] | None = None,
    progress: Any = None,
    chunk: int = 500,
    role: str | None = None,
    url: str = "",
) -> BulkOutcome:
    """Apply transition ``name`` to each of ``objs`` for ``actor``, in chunks of ``chunk``
    items, each chunk one transaction (decision 0023).

    Per chunk: lock the projects' rows then the items' (pk order); ``check`` each item —
    a refusal (no permission, wrong state, a condition, a missing reason) or an item
    someone else moved since ``objs`` were read leaves it untouched and is listed in
    ``refused`` with its message, the rest go through; run the transition, ``before_save``,
    save every changed row in one UPDATE; the registered bulk flow step; one audit row per
    item (the actor's acting role, hash-chained) in one INSERT; ``after(steps)`` (the
    single action's cascades, in bulk); and the declared notices grouped per recipient —
    one notice per recipient per chunk, listing the items. ``progress`` (jobs.Progress)
    advances per chunk. ``role`` is only for ``system`` transitions (the causing step's).
    ``url`` is the grouped notices' link (else the single item's own page).
    """
    objs = list(objs)
    outcome = BulkOutcome()
    if not objs:
        return outcome
    model = type(objs[0])
    d = declared(model, name)
    if role is not None and d.is_action:
        raise ImproperlyConfigured(f"{name}: a person's transition derives its role; only system() ones inherit one")
    if flow_step_of(model, name) is not None and bulk_flow_step_of(model, name) is None:
        raise ImproperlyConfigured(
            f"{model.__name__}.{name} has a flow step but no bulk one (register_bulk_flow_step): "
            "applying it in bulk would leave its tasks open"
        )
    if progress is not None:
        progress.start(PHASE_APPLY, len(objs))
    for start in range(0, len(objs), chunk):
        part = objs[start : start + chunk]
        outcome.extend(
            _apply_chunk(
                model, d, part, actor=actor, comment=comment, arguments=arguments, before_save=before_save,
                detail=detail, after=after, role=role, url=url,
            )
        )  # fmt: skip
        if progress is not None:
            progress.advance(len(part))
    return outcome


def _apply_chunk(
    model: type[models.Model],
    d: Declared,
    part: list[models.Model],
    *,
    actor: User | None,
    comment: str,
    arguments,
    before_save,
    detail,
    after,
    role: str | None,
    url: str,
) -> BulkOutcome:
    from notifications.services import board_changed

    from .services.audit import audit_record_many

    outcome = BulkOutcome()
    comment = (comment or "").strip()
    with transaction.atomic():
        locked = _lock_many(model, [o.pk for o in part])
        ready: list[models.Model] = []
        for given in part:
            obj = locked.get(given.pk)
            if obj is None:
                outcome.refused.append((given, _("已不存在")))
                continue
            if getattr(obj, d.field) != getattr(given, d.field):
                outcome.refused.append(
                    (obj, _("%(taken)s（当前为「%(state)s」）") % {
                        "taken": _(TAKEN_MESSAGE), "state": getattr(obj, f"get_{d.field}_display")(),
                    })
                )  # fmt: skip
                continue
            try:
                check(obj, d.name, actor=actor, comment=comment)
            except (PermissionDenied, ActionNotAllowed, ValidationError) as exc:
                outcome.refused.append((obj, _refusal_message(exc)))
                continue
            ready.append(obj)
        if not ready:
            return outcome
        acting = role if role is not None else acting_role(actor, d.roles)
        counter = getattr(model, "version_counter", "revision")
        changed: set[str] = set()
        steps: list[Step] = []
        for obj in ready:
            before = _snapshot(obj)
            from_state = getattr(obj, d.field)
            kwargs = arguments(obj) if callable(arguments) else arguments
            getattr(obj, d.name)(**(kwargs or {}))
            if before_save is not None:
                before_save(obj)
            changed |= _changed_fields(before, obj)
            if hasattr(obj, counter):  # after the comparison: the UPDATE bumps it in the database
                setattr(obj, counter, getattr(obj, counter) + 1)
            steps.append(
                Step(
                    obj=obj, name=d.name, actor=actor, role=acting, from_state=from_state,
                    to_state=getattr(obj, d.field), comment=comment, detail=dict(detail(obj) if detail else {}),
                )
            )  # fmt: skip
        _save_many(model, ready, changed, counter)
        bulk_step = bulk_flow_step_of(model, d.name)
        by_flow = list(bulk_step(steps)) if bulk_step is not None else [{} for _ in steps]
        last = audit_record_many(
            [
                {
                    "object_type": model._meta.label_lower,
                    "object_id": s.obj.pk,
                    "object_repr": str(s.obj),
                    "action": d.audit_action,
                    "from_state": s.from_state,
                    "to_state": s.to_state,
                    "comment": s.comment,
                    "detail": {**audit_detail(s.obj), **s.detail},
                }
                for s in steps
            ],
            actor=actor,
            role=acting,
        )
        if after is not None:
            after(steps)
        _notify_grouped(d, steps, by_flow, event_key=f"bulk:{last}", url=url)
        board_changed(d.audit_action)
        outcome.done.extend(ready)
    return outcome


def _notify_grouped(
    d: Declared, steps: list[Step], by_flow: list[Mapping[User, Message]], *, event_key: str, url: str
) -> None:
    """The declared notices (and the flow's) of every step, one per recipient: a recipient
    told of one item gets that item's own message; of several, one message naming them
    all (processes.notices.BULK_DONE)."""
    from notifications.services import notify

    from . import notices

    tells = d.custom["tells"]
    per_user: dict[User, list[tuple[Step, Message]]] = {}
    with notices.audiences_cached([s.obj for s in steps]):
        for s, flow_told in zip(steps, by_flow, strict=True):
            messages: dict[User, Message] = {}
            if tells is not None and not (flow_told and getattr(tells, "unless_flow", False)):
                messages.update(tells(s))
            messages.update(flow_told)
            for user, message in messages.items():
                if user is not None and user != s.actor:
                    per_user.setdefault(user, []).append((s, message))
    if not per_user:
        return
    grouped: dict[User, Message] = {}
    own_urls: dict[User, str] = {}
    for user, told in per_user.items():
        if len(told) == 1:
            grouped[user] = told[0][1]
            own_urls[user] = told[0][0].obj.get_absolute_url()
        else:
            grouped[user] = notices.bulk_message(d.label, [s.obj for s, _m in told], kind=told[0][1].kind)
    single = len(steps) == 1
    first = steps[0].obj
    notify(
        messages=grouped,
        event_key=event_key,
        url=url,
        urls=own_urls,
        object_type=first._meta.label_lower,
        object_id=str(first.pk) if single else "",
    )
