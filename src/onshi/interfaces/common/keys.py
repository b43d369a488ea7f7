"""API keys at the edge: the key of a request (X-API-Key or Authorization: Bearer) and the
FastAPI dependencies every router shares — facility keys look up, insurer keys write for
their own insurer, reviewer keys review claims, analyst keys read every statistic (ROLES in
registry/service.py)."""

from typing import Annotated, Callable

from fastapi import Depends, Header, Path

from ...domain.errors import Forbidden
from ...registry.service import Principal, Registry


def api_key(headers: dict[str, str]) -> str | None:
    key = headers.get("x-api-key")
    auth = headers.get("authorization", "")
    if not key and auth.lower().startswith("bearer "):
        key = auth[7:].strip()
    return key


def dependencies(registry: Registry) -> tuple[Callable, Callable, Callable]:
    """(any key, facility key, insurer key for the path's {insurer_number}) dependencies."""

    def principal(  # sync: FastAPI runs it in a worker thread (a key not seen for KEY_TTL seconds is read from the database)
        x_api_key: Annotated[str | None, Header(description="facility or insurer API key")] = None,
        authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    ) -> Principal:
        key = x_api_key
        if not key and authorization and authorization.lower().startswith("bearer "):
            key = authorization[7:].strip()
        return registry.authenticate(key)

    facility = requiring(principal, "facility", "this needs a facility key")

    async def insurer(insurer_number: Annotated[str, Path(max_length=8)], who: Annotated[Principal, Depends(principal)]) -> Principal:
        if who.role != "insurer" or who.subject != insurer_number.strip():
            raise Forbidden("insurer_number", f"this key may not write for insurer {insurer_number}")
        return who

    return principal, facility, insurer


def requiring(principal: Callable, role: str, reason: str) -> Callable:
    """A dependency admitting only keys of `role`."""

    async def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if who.role != role:
            raise Forbidden("X-API-Key", reason)
        return who

    return check
