"""The batch membership index: one record per slice, rebuilt from the tables, legacy
per-request entries still honoured."""

from __future__ import annotations

from typing import Any

from frugalflow.dispatch.batch_membership import (
    DONE,
    DoneSlices,
    Membership,
    done_slice_stamp,
    done_value,
    member_key,
)
from frugalflow.table_ttl import TableTTL

T0 = 1_780_000_000.0


def _slice(*request_ids: str, tenant: str = "acme") -> dict[str, Any]:
    requests = [{"request": {"tenant_id": tenant, "request_id": r}} for r in request_ids]
    return {"state": "submitted", "requests": requests}


def _m(request_id: str) -> str:
    return member_key({"tenant_id": "acme", "request_id": request_id})


def test_a_slice_holds_its_requests_until_done_then_one_record_remembers_them() -> None:
    pending: dict[str, Any] = {}
    done: dict[str, Any] = {}
    legacy: dict[str, Any] = {}
    book = Membership(pending, done, legacy)
    pending["k1"] = _slice("r1", "r2")
    book.hold("k1", [_m("r1"), _m("r2")])
    assert book.of(_m("r1")) == "k1" and book.of(_m("r3")) is None
    book.finish("k1", [_m("r1"), _m("r2")], T0, 2)
    del pending["k1"]
    assert book.of(_m("r1")) == DONE and book.of(_m("r2")) == DONE
    assert done == {"k1": {"at": T0, "partition": 2, "members": [_m("r1"), _m("r2")]}}
    assert legacy == {}  # nothing per request

    fresh = Membership(pending, done, legacy)  # a restart: the index comes from the tables
    pending["k2"] = _slice("r3")
    assert fresh.rebuild() == 3
    assert (fresh.of(_m("r1")), fresh.of(_m("r3"))) == (DONE, "k2")


def test_a_released_slice_frees_its_requests() -> None:
    pending: dict[str, Any] = {"k1": _slice("r1")}
    book = Membership(pending, {}, {})
    book.hold("k1", [_m("r1")])
    book.release("k1", [_m("r1")])
    assert book.of(_m("r1")) is None


def test_legacy_entries_of_an_earlier_version_are_read_finished_and_released() -> None:
    pending: dict[str, Any] = {"k1": _slice("r1", "r2"), "k2": _slice("r4")}
    done: dict[str, Any] = {}
    legacy: dict[str, Any] = {_m("r1"): "k1", _m("r2"): "k1", _m("r3"): done_value(T0, 1),
                              _m("r4"): "k2"}  # fmt: skip
    book = Membership(pending, done, legacy)
    assert (book.of(_m("r1")), book.of(_m("r3"))) == ("k1", DONE)
    book.finish("k1", [_m("r1"), _m("r2")], T0, 1)
    assert _m("r1") not in legacy and book.of(_m("r1")) == DONE
    assert done["k1"]["members"] == [_m("r1"), _m("r2")]
    book.release("k2", [_m("r4")])
    assert _m("r4") not in legacy and book.of(_m("r4")) is None


def test_an_expired_done_slice_is_forgotten_with_its_requests() -> None:
    pending: dict[str, Any] = {"k1": _slice("r1")}
    done: dict[str, Any] = {}
    book = Membership(pending, done, {})
    book.hold("k1", [_m("r1")])
    book.finish("k1", [_m("r1")], T0, 0)
    del pending["k1"]
    ttl = TableTTL(DoneSlices(done, book), ttl_s=60, budget=4, parse=done_slice_stamp,
                   clock=lambda: T0)  # fmt: skip
    ttl.track(0, "k1", T0)
    assert ttl.prune(0, T0 + 59) == 0 and book.of(_m("r1")) == DONE
    assert ttl.prune(0, T0 + 61) == 1
    assert done == {} and book.of(_m("r1")) is None
