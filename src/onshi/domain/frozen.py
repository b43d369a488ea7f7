"""A quicker constructor for the frozen dataclasses built millions of times (a simulated month
decides two million visits: every lookup builds a QualificationView, a PersonView, a
LookupResult…).

A frozen dataclass's generated `__init__` sets each field through `object.__setattr__` (to get
past its own frozen `__setattr__`): for QualificationView's 30 fields that was about a tenth of
a simulated visit's CPU (py-spy on one chunk, issue 13). `quick_init` gives the class an
`__init__` with the same signature — the same parameters in the same order, the same defaults,
keyword-only where the dataclass had them — that fills the instance's `__dict__` at once. The
instance is the same (equal, same hash, still frozen: assigning a field raises
FrozenInstanceError); tests/test_frozen_init.py checks it field by field against the
dataclass's own constructor. Classes it cannot do the same for (slots, __post_init__, InitVar
or init=False fields) are refused at import, not silently changed.
"""

from __future__ import annotations

import dataclasses

_NO_VALUE = object()  # a field with a default factory was not given


def quick_init(cls: type) -> type:
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    if not params.frozen or "__slots__" in cls.__dict__ or hasattr(cls, "__post_init__"):
        raise TypeError(f"quick_init: {cls.__name__} is not a plain frozen dataclass with a __dict__")
    fields = dataclasses.fields(cls)
    if len(fields) != len([f for f in cls.__dataclass_fields__.values() if f._field_type is dataclasses._FIELD]):  # type: ignore[attr-defined]
        raise TypeError(f"quick_init: {cls.__name__} has InitVar or ClassVar pseudo-fields")
    defaults: dict[str, object] = {"_NO_VALUE": _NO_VALUE}
    factories: list[str] = []
    positional, keyword = [], []
    for f in fields:
        if not f.init:
            raise TypeError(f"quick_init: {cls.__name__}.{f.name} has init=False")
        if f.default_factory is not dataclasses.MISSING:  # called per instance, as the dataclass does
            defaults[f"_factory_{f.name}"] = f.default_factory
            factories.append(f"    if {f.name} is _NO_VALUE:\n        {f.name} = _factory_{f.name}()\n")
            param = f"{f.name}=_NO_VALUE"
        elif f.default is dataclasses.MISSING:
            param = f.name
        else:
            defaults[f"_default_{f.name}"] = f.default
            param = f"{f.name}=_default_{f.name}"
        (keyword if f.kw_only else positional).append(param)
    signature = ", ".join(positional + (["*", *keyword] if keyword else []))
    body = ", ".join(f"{f.name!r}: {f.name}" for f in fields)
    source = f"def __init__(self, {signature}):\n{''.join(factories)}    self.__dict__.update({{{body}}})\n"
    namespace: dict = dict(defaults)
    exec(source, namespace)  # noqa: S102 — the source is built from the dataclass's own field names
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__dataclass_init__ = cls.__init__  # the dataclass's own, kept for the test that compares the two
    cls.__init__ = init  # type: ignore[misc]
    return cls


def quick_replace(obj: object, **changes: object) -> object:
    """`dataclasses.replace` for a quick_init class: every field is an init field held in the
    instance's __dict__, so the copy is the class called with the __dict__ and the changes
    (replace's own walk over the fields took a fifth of building a simulated month's claims)."""
    cls = type(obj)
    if "__dataclass_init__" not in cls.__dict__:
        raise TypeError(f"quick_replace: {cls.__name__} has no quick_init")
    return cls(**{**obj.__dict__, **changes})


__all__ = ["quick_init", "quick_replace"]
