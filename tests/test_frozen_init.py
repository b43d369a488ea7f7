"""domain.frozen.quick_init: the quicker constructor of the frozen dataclasses a simulated month
builds millions of gives the instance the dataclass's own constructor gives — same fields in
the same order, defaults, equality, hash — and it stays frozen."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from onshi.claims import checklist, models
from onshi.domain import card as card_module
from onshi.domain.frozen import quick_init
from onshi.frontdesk import engine
from onshi.registry import audit, lookup, service

DAY = dt.date(2025, 12, 3)
QUICK = [c for m in (lookup, card_module, engine, models, checklist, audit, service) for c in vars(m).values()
         if isinstance(c, type) and c.__module__ == m.__name__ and "__dataclass_init__" in c.__dict__]


def sample(f: dataclasses.Field, i: int) -> object:
    kind = str(f.type)
    if "date" in kind:
        return DAY + dt.timedelta(days=i)
    if "bool" in kind:
        return True
    if "tuple" in kind:
        return ("x", i)
    if "int" in kind:
        return i
    return f"v{i}"


def test_the_hot_classes_have_it():
    names = {c.__name__ for c in QUICK}
    assert {"QualificationRow", "QualificationView", "PersonView", "LookupResult", "CardStatus", "Visit", "Patient", "Document", "Claim", "VisitFacts",
            "Verification", "NumberQuery"} <= names


@pytest.mark.parametrize("cls", QUICK, ids=lambda c: c.__name__)
def test_same_instance_as_the_dataclass_constructor(cls):
    fields = dataclasses.fields(cls)
    every = {f.name: sample(f, i) for i, f in enumerate(fields)}
    required = {f.name: every[f.name] for f in fields if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    for values in (every, required):
        quick = cls(**values)
        own = object.__new__(cls)
        cls.__dataclass_init__(own, **values)
        assert list(quick.__dict__.items()) == list(own.__dict__.items())
        assert quick == own and hash(quick) == hash(own)
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(quick, fields[0].name, None)
    positional = [every[f.name] for f in fields if not f.kw_only]
    assert cls(*positional, **{f.name: every[f.name] for f in fields if f.kw_only}) == cls(**every)
    with pytest.raises(TypeError):
        cls(**every, not_a_field=1)


def test_default_factories_are_called_each_time():
    @quick_init
    @dataclasses.dataclass(frozen=True)
    class Sample:
        a: int
        b: list = dataclasses.field(default_factory=list)
        c: str = "c"

    one, two = Sample(1), Sample(2, c="d")
    assert one.b == [] and one.b is not two.b and two.c == "d" and Sample(3, [1]).b == [1]


def test_refuses_what_it_cannot_do_the_same():
    @dataclasses.dataclass(frozen=True)
    class WithPostInit:
        a: int

        def __post_init__(self) -> None:
            pass

    @dataclasses.dataclass(frozen=True, slots=True)
    class Slotted:
        a: int

    @dataclasses.dataclass
    class NotFrozen:
        a: int

    for cls in (WithPostInit, Slotted, NotFrozen):
        with pytest.raises(TypeError):
            quick_init(cls)


def test_quick_replace_is_dataclasses_replace():
    from onshi.domain.frozen import quick_replace

    for cls in QUICK:
        fields = dataclasses.fields(cls)
        obj = cls(**{f.name: sample(f, i) for i, f in enumerate(fields)})
        change = {fields[-1].name: sample(fields[-1], 99)}
        assert list(quick_replace(obj, **change).__dict__.items()) == list(dataclasses.replace(obj, **change).__dict__.items())
        assert quick_replace(obj) == obj and quick_replace(obj) is not obj
    with pytest.raises(TypeError):
        quick_replace(object())
