"""The audit trail: append a hash-chained event; verify the chain.

Every write takes the chain head's row lock, so rows get gap-free sequences in commit
order and each carries the hash of the one before. The head is the last lock a
transition takes (after the project and the flow process), so lock order is fixed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from types import SimpleNamespace
from typing import Any

from django.db import models, transaction
from django.db.models.query import MAX_GET_RESULTS
from django.utils import timezone

from config.prepared import PreparedModels

from ..audit_context import client_ip
from ..bulk_insert import insert_rows, insert_sql
from ..models import AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64


def _canonical(event: AuditEvent | SimpleNamespace) -> bytes:
    """The event's content as hashed (a stored event, or the fields of one about to be)."""
    payload = {
        "sequence": event.sequence,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_username": event.actor_username,
        "actor_role": event.actor_role,
        "ip": event.ip,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "action": event.action,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "comment": event.comment,
        "detail": event.detail,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def compute_hash(event: AuditEvent | SimpleNamespace) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


def _json_safe(value: Any) -> Any:
    """Round-trip through JSON so what is hashed is exactly what the database returns."""
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


_BATCH_COLUMNS = (
    "sequence",
    "object_type",
    "object_id",
    "object_repr",
    "action",
    "from_state",
    "to_state",
    "comment",
    "detail",
    "prev_hash",
    "hash",
)
_JSON_SCALARS = (str, int, bool, type(None))
#: how json encodes a str with ensure_ascii=False (what JSONEncoder.encode calls for one)
_encode_text = json.encoder.encode_basestring


def _plain(value: Any) -> Any:
    """A str subclass (a state's TextChoices member) as the plain str it is stored and
    hashed as (its text); anything else unchanged."""
    return str.__str__(value) if type(value) is not str and isinstance(value, str) else value


def _json_safe_fast(value: Any) -> Any:
    """``_json_safe(value)``; a flat dict of strings, ints, booleans and nulls (what the
    bulk actions' events carry) comes back from JSON equal to itself, so it is copied
    rather than encoded and decoded."""
    if type(value) is dict and all(type(k) is str and type(v) in _JSON_SCALARS for k, v in value.items()):
        return dict(value)
    return _json_safe(value)


def _flat_key(detail: Any) -> tuple | None:
    """A hashable key of a flat detail of JSON scalars (types kept apart: 1, 1.0 and True
    are different texts), else None."""
    if type(detail) is dict and all(type(k) is str and type(v) in _JSON_SCALARS for k, v in detail.items()):
        return tuple((k, type(v), v) for k, v in detail.items())
    return None


class _CanonicalBatch:
    """``_canonical`` of a batch's events, which share their actor, role, address and time:
    those parts encoded once, each event's own values encoded one by one into the same
    text ``json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))``
    gives (keys in sorted order; tested equal to ``_canonical`` for any values)."""

    def __init__(self, common: dict[str, Any]) -> None:
        self.encode = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode
        enc = self.encode
        occurred_at = common["occurred_at"].astimezone(UTC).isoformat(timespec="microseconds")
        # the sorted keys: action, actor_id, actor_role, actor_username, comment, detail,
        # from_state, ip, object_id, object_repr, object_type, occurred_at, prev_hash,
        # sequence, to_state
        self.actor = (
            f',"actor_id":{enc(common["actor_id"])},"actor_role":{enc(common["actor_role"])}'
            f',"actor_username":{enc(common["actor_username"])},"comment":'
        )
        self.ip = f',"ip":{enc(common["ip"])},"object_id":'
        self.occurred_at = f',"occurred_at":{enc(occurred_at)},"prev_hash":'

    def of(
        self,
        sequence: int,
        object_type: str,
        object_id: str,
        object_repr: str,
        action: str,
        from_state: str,
        to_state: str,
        comment: str,
        detail: Any,
        prev_hash: str,
        *,
        detail_text: str | None = None,
    ) -> bytes:
        """The canonical bytes of one event; ``detail_text``: ``detail`` already encoded
        (by ``self.encode``), when the caller has it."""
        enc, text = self.encode, _encode_text
        return "".join(
            (
                '{"action":',
                text(action) if type(action) is str else enc(action),
                self.actor,
                text(comment) if type(comment) is str else enc(comment),
                ',"detail":',
                enc(detail) if detail_text is None else detail_text,
                ',"from_state":',
                text(from_state) if type(from_state) is str else enc(from_state),
                self.ip,
                text(object_id) if type(object_id) is str else enc(object_id),
                ',"object_repr":',
                text(object_repr) if type(object_repr) is str else enc(object_repr),
                ',"object_type":',
                text(object_type) if type(object_type) is str else enc(object_type),
                self.occurred_at,
                text(prev_hash) if type(prev_hash) is str else enc(prev_hash),
                ',"sequence":',
                int.__repr__(sequence) if type(sequence) is int else enc(sequence),
                ',"to_state":',
                text(to_state) if type(to_state) is str else enc(to_state),
                "}",
            )
        ).encode()


#: the chain's head under a row lock, as ``select_for_update().get(pk=…)`` reads it (no
#: ordering, at most MAX_GET_RESULTS rows); a missing head is created by get_or_create
_HEAD = PreparedModels(
    lambda pk: AuditChainHead.objects.select_for_update().filter(pk=pk).order_by()[:MAX_GET_RESULTS], pk=int
)


def audit_record(
    *,
    obj: models.Model,
    action: str,
    actor=None,
    role: str = "",
    from_state: str = "",
    to_state: str = "",
    comment: str = "",
    detail: dict | None = None,
) -> AuditEvent:
    """Append one event for ``obj``. Must run inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transition's transaction")
    found = _HEAD(pk=1)  # every transition: compiled once
    head = found[0] if found else AuditChainHead.objects.select_for_update().get_or_create(pk=1)[0]
    event = AuditEvent(
        sequence=head.last_sequence + 1,
        occurred_at=timezone.now(),
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_username=getattr(actor, "username", "") or "",
        actor_role=role,
        ip=client_ip(),
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:255],
        action=action,
        from_state=from_state,
        to_state=to_state,
        comment=comment,
        detail=_json_safe(detail or {}),
        prev_hash=head.last_hash,
    )
    event.hash = compute_hash(event)
    event.save()
    head.last_sequence = event.sequence
    head.last_hash = event.hash
    head.save(update_fields=["last_sequence", "last_hash"])
    return event


def audit_record_many(events: list[dict], *, actor=None, role: str = "", head: AuditChainHead | None = None) -> int:
    """Append one event per item of ``events`` (dicts of object_type, object_id, object_repr,
    action, from_state, to_state, comment, detail) for one actor, in one INSERT and one
    head update (one statement on PostgreSQL): a campaign's thousands of stage changes,
    chained like any other events.
    Must run inside the caller's transaction. Returns the sequence of the last one.
    ``head``: the chain head as the caller's own statement just read and row-locked it
    (read and locked here otherwise).

    The rows go in through processes.bulk_insert, not as model instances: for a campaign's
    3,755 rows the instances cost more than hashing them (docs/performance.md)."""
    if not events:
        raise ValueError("audit_record_many needs at least one event")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record_many must run inside the transition's transaction")
    if head is None:
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    common = {
        "occurred_at": timezone.now(),
        "actor_id": actor.pk if actor is not None and actor.is_authenticated else None,
        "actor_username": getattr(actor, "username", "") or "",
        "actor_role": role,
        "ip": client_ip(),
    }
    sequence, prev_hash = head.last_sequence, head.last_hash
    columns: dict[str, list] = {name: [] for name in _BATCH_COLUMNS}
    (
        sequences,
        object_types,
        object_ids,
        object_reprs,
        actions,
        from_states,
        to_states,
        comments,
        details,
        prev_hashes,
        hashes,
    ) = columns.values()
    canonical = _CanonicalBatch(common)
    sha256 = hashlib.sha256
    # each detail's canonical text, for the hash and (PostgreSQL) the jsonb column — the
    # same value as the field's encoding of a JSON-safe detail; a flat detail met before
    # (a campaign's thousands of {"campaign": pk}) encoded once
    postgres = transaction.get_connection().vendor == "postgresql"
    encoded: dict[tuple, tuple[dict, str]] = {}
    for item in events:
        sequence += 1
        object_id = str(item["object_id"])
        object_repr = str(item.get("object_repr", ""))[:255]
        from_state, to_state = _plain(item.get("from_state", "")), _plain(item.get("to_state", ""))
        comment = item.get("comment", "")
        raw = item.get("detail") or {}
        key = _flat_key(raw)
        known = encoded.get(key) if key is not None else None
        if known is None:
            detail = _json_safe_fast(raw)
            detail_text = canonical.encode(detail)
            if key is not None:
                encoded[key] = (detail, detail_text)
        else:
            detail, detail_text = known
        payload = canonical.of(
            sequence,
            item["object_type"],
            object_id,
            object_repr,
            item["action"],
            from_state,
            to_state,
            comment,
            detail,
            prev_hash,
            detail_text=detail_text,
        )
        sequences.append(sequence)
        object_types.append(item["object_type"])
        object_ids.append(object_id)
        object_reprs.append(object_repr)
        actions.append(item["action"])
        from_states.append(from_state)
        to_states.append(to_state)
        comments.append(comment)
        details.append(detail_text if postgres else detail)
        prev_hashes.append(prev_hash)
        prev_hash = sha256(payload).hexdigest()
        hashes.append(prev_hash)
    head.last_sequence, head.last_hash = sequence, prev_hash
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        # the rows and the head's move in one statement (a data-modifying WITH)
        insert, params = insert_sql(AuditEvent, same=common, each=columns, encoded={"detail"})
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH inserted AS ({insert}) UPDATE {connection.ops.quote_name(AuditChainHead._meta.db_table)} "
                "SET last_sequence = %s, last_hash = %s WHERE id = %s",
                [*params, head.last_sequence, head.last_hash, head.pk],
            )
        return sequence
    insert_rows(AuditEvent, same=common, each=columns, returning=False)
    head.save(update_fields=["last_sequence", "last_hash"])
    return sequence


@dataclass(frozen=True)
class ChainProblem:
    sequence: int | None
    reason: str

    def __str__(self) -> str:
        where = f"#{self.sequence}" if self.sequence is not None else "chain head"
        return f"{where}: {self.reason}"


def audit_verify(*, batch_size: int = 2000) -> ChainProblem | None:
    """Walk the chain in sequence order; return the first bad row, or None if intact.

    Detects an edited row (its hash no longer matches its content), a deleted row (a gap
    in the sequence, or a prev_hash that does not match), and a deleted tail (the head
    names a later sequence than the last row).
    """
    expected_prev = GENESIS_HASH
    expected_seq = 1
    for event in AuditEvent.objects.order_by("sequence").iterator(chunk_size=batch_size):
        if event.sequence != expected_seq:
            return ChainProblem(event.sequence, f"sequence gap: expected #{expected_seq} before it (row deleted)")
        if event.prev_hash != expected_prev:
            return ChainProblem(event.sequence, "prev_hash does not match the previous row")
        if compute_hash(event) != event.hash:
            return ChainProblem(event.sequence, "content does not match its hash (row edited)")
        expected_prev = event.hash
        expected_seq += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    last = expected_seq - 1
    if head is not None and (head.last_sequence != last or head.last_hash != expected_prev):
        return ChainProblem(
            last + 1 if head.last_sequence > last else None,
            f"chain head names #{head.last_sequence}, last row is #{last} (rows deleted at the end)",
        )
    return None


def audit_and_notify(
    *,
    obj: models.Model,
    action: str,
    actor,
    role: str,
    from_state: str,
    to_state: str,
    url: str,
    comment: str = "",
    detail: dict | None = None,
    told: dict | None = None,
) -> AuditEvent:
    """Append the audit event of a sub-process step and tell ``told`` ({User: Message})
    about it, under the event's key (so nobody is told twice); the actor is never told
    of their own step. Inside the caller's transaction."""
    from notifications.services import notify

    event = audit_record(
        obj=obj,
        action=action,
        actor=actor,
        role=role,
        from_state=from_state,
        to_state=to_state,
        comment=comment,
        detail=detail,
    )
    told = dict(told or {})
    if actor is not None:
        told.pop(actor, None)
    if told:
        notify(
            messages=told,
            event_key=f"audit:{event.sequence}",
            url=url,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
        )
    return event
