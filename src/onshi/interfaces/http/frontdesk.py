"""HTTP for the front desk: decide a case file, or a visit on the live registry."""

from typing import Annotated

import orjson
from fastapi import APIRouter, Body, Depends
from starlette.responses import Response

from ...frontdesk.live import VisitRequest, record_visit
from ...frontdesk.runner import decide_case
from ...registry.service import Principal, Registry
from ..common import keys


def router(registry: Registry) -> APIRouter:
    _, facility_principal, _ = keys.dependencies(registry)
    r = APIRouter(prefix="/api/v1/frontdesk", tags=["frontdesk"])

    @r.post("/decide", summary="ケースファイルの判定（CASES.md の形式）")
    def decide(case: Annotated[dict, Body(description="a case as in ../shared/domain/CASES.md")], who: Annotated[Principal, Depends(facility_principal)]) -> Response:
        return Response(orjson.dumps(decide_case(case)), media_type="application/json")

    @r.post("/visits", summary="受付：来院した患者の判定と記録（実際の資格情報で照会）", status_code=201)
    def visits(body: VisitRequest, who: Annotated[Principal, Depends(facility_principal)]) -> Response:
        return Response(orjson.dumps(record_visit(registry, who.subject, body)), status_code=201, media_type="application/json")

    return r
