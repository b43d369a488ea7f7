"""The JSON HTTP API (FastAPI). Handlers are thin: they authenticate, hand over to the
registry service, and shape the answer. OpenAPI at /docs and /openapi.json."""

import datetime as dt
from contextlib import asynccontextmanager
from typing import Annotated

import orjson
from fastapi import Depends, FastAPI, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from ... import __version__, config
from ...domain.dates import FIRST_DAY, LAST_DAY
from ...registry import operations
from ...registry.service import Principal, Registry
from ..common import keys, problems
from ..common.keys import api_key
from ..common.requests import CardLookup, NumberLookup
from . import fastpath, frontdesk, limits, openapi

API = "/api/v1"


def json_response(body: object, status: int = 200, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def create_app(registry: Registry, *, fast_lookups: bool = True):  # noqa: ANN201
    """The API; wrapped by FastLookups unless `fast_lookups` is False (both answer alike)."""
    app = _create_app(registry)
    return limits.BodyLimit(fastpath.FastLookups(app, registry) if fast_lookups else app)


def _create_app(registry: Registry) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # noqa: ANN202
        await registry.start_async()  # PostgreSQL: lookups answered on this loop (registry/aio.py)
        yield
        await registry.stop_async()
        registry.close()

    app = FastAPI(
        title="onshi — オンライン資格確認等システム API",
        version=__version__,
        description="Lookups for facilities (by card, by numbers) and registrations for insurers. "
        "Every call needs an API key in the X-API-Key header. Errors are problem+json.",
        lifespan=lifespan,
    )
    app.state.registry = registry
    problems.install(app)
    openapi.document(app)

    principal, facility_principal, insurer_principal = keys.dependencies(registry)
    app.include_router(frontdesk.router(registry))
    from ..fhir.http import router as fhir_router  # facility interfaces (issue 4): XML over HTTP, FHIR
    from ..oqs_xml.http import router as oqs_router

    app.include_router(oqs_router(registry))
    app.include_router(fhir_router(registry))
    from ..web import router as web_router  # reception pages (issue 5)

    app.include_router(web_router(registry))
    from .claims import router as claims_router  # claims, UKE files, the review (issue 6)

    app.include_router(claims_router(registry))
    from .stats import router as stats_router  # statistics, what-if (issue 13)

    app.include_router(stats_router(registry))
    from .issuance import router as issuance_router  # insurer issuance: applications, settings, runs, PDFs (issue 12)

    app.include_router(issuance_router(registry))

    @app.get(f"{API}/health", tags=["system"])
    def health() -> Response:
        return json_response({"status": "ok", "version": __version__, "today": config.today().isoformat()})

    # The lookups are the hot path: FastLookups (fastpath.py) answers them in front of the
    # app; these routes document them and answer the same way through the same function.
    def _lookup_route(kind: str, model: type[BaseModel], summary: str):  # noqa: ANN202
        async def handler(request: Request) -> Response:
            status, ctype, payload = await fastpath.answer(registry, kind, api_key(request.headers), await request.body())
            return Response(payload, status_code=status, media_type=ctype.decode(), headers=problems.status_headers(status))

        body_schema = {"content": {"application/json": {"schema": model.model_json_schema()}}, "required": True}
        app.post(f"{API}/lookups/{kind}", tags=["lookups"], summary=summary, openapi_extra={"requestBody": body_schema})(handler)

    _lookup_route("card", CardLookup, "資格確認（マイナ保険証）")
    _lookup_route("numbers", NumberLookup, "資格確認（被保険者番号等による一件照会）")

    @app.get(f"{API}/verifications", tags=["lookups"], summary="本日の資格確認一覧（この施設）")
    def verifications(who: Annotated[Principal, Depends(facility_principal)], date: dt.date | None = Query(None, ge=FIRST_DAY, le=LAST_DAY)) -> Response:
        rows = registry.log.for_facility(who.subject, date)
        for r in rows:
            for k, v in r.items():
                if isinstance(v, dt.date | dt.datetime):
                    r[k] = v.isoformat()
        return json_response({"facility_code": who.subject, "date": (date or config.today()).isoformat(), "verifications": rows})

    def _operation(kind: str, model: type[BaseModel]):  # noqa: ANN202
        # No `from __future__ import annotations` here: FastAPI reads `model` from the closure.
        def handler(body: model, who: Annotated[Principal, Depends(insurer_principal)]) -> Response:
            result = registry.operate(who.subject, kind, body)
            return json_response(result.body, 200 if result.replayed else 201, {"Idempotent-Replayed": "true"} if result.replayed else None)

        return handler

    routes = {
        "acquisitions": ("acquisition", "資格取得の登録 (R-I1: 5日以内)"),
        "changes": ("change", "資格情報の変更 (R-I1: 10日以内)"),
        "losses": ("loss", "資格喪失の登録"),
        "card-links": ("card_link", "マイナンバーカードの紐付け"),
        "card-registrations": ("card_registration", "健康保険証利用登録"),
    }
    for path, (kind, summary) in routes.items():
        model = operations.HANDLERS[kind][1]
        app.post(f"{API}/insurers/{{insurer_number}}/{path}", tags=["insurers"], summary=summary, status_code=201)(_operation(kind, model))

    @app.get(f"{API}/insurers/{{insurer_number}}/compliance", tags=["insurers"], summary="登録期限の遵守状況 (R-I1)")
    def compliance(who: Annotated[Principal, Depends(insurer_principal)], since: dt.date | None = Query(None, ge=FIRST_DAY, le=LAST_DAY)) -> Response:
        return json_response(registry.compliance(who.subject, since))

    return app
