"""HTTP endpoints for claims, under /api/v1/claims. Thin: authenticate, call the service.

Access: a facility key builds, files, downloads and re-claims its own claims and reads the
review result of its own claims; a reviewer key (api_key role `reviewer`, the 審査支払機関)
takes UKE files in, runs the review and reads every result. A reviewer key whose subject is
"1" (支払基金) or "2" (国保連) reviews only that body's claims; any other subject, both. Any
key may have a UKE file parsed (`POST /api/v1/claims/reads`). Errors are problem+json.
"""

import datetime as dt
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ...claims import service, uke
from ...claims.models import parse_month
from ...domain.errors import Forbidden, InputError, NotFound
from ...registry.models import Day
from ...registry.service import Principal, Registry
from ..common import keys

PREFIX = "/api/v1/claims"
MAX_FILE = 64 * 1024 * 1024
MONTH = r"^(19|20|21)\d{2}-(0[1-9]|1[0-2])$"  # no 0000-00: a real month of domain.dates' range
Month = Annotated[str, Field(pattern=MONTH, description="YYYY-MM")]
Id = Annotated[int, Path(ge=1, le=2**63 - 1, description="a database id (64-bit)")]


class BuildRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    month: Month = Field(description="診療年月 (YYYY-MM)")
    remarks: dict[str, dict] | None = Field(None, description="per patient number, 不詳 remarks learned after the visits (R-E1, R-E3 連絡日)")
    unknown_insurer: Literal["77777777", "77777779"] = "77777777"


class WriteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    month: Month = Field(description="診療年月 whose built claims are filed")
    billing_month: Month | None = Field(None, description="請求年月 (default: the month after)")
    payer: Literal["1", "2"] | None = None
    include_failing: bool = Field(False, description="file 不詳 claims that fail the checklist too")


class ReviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    billing_month: Month
    review_date: Day | None = Field(None, description="the registry as known on this day (default today)")
    payer: Literal["1", "2"] | None = None


class ReclaimRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    billing_month: Month
    numbers: dict[str, str] | None = Field(None, description="current 被保険者番号等: insurer_number, symbol, number, branch")

    @field_validator("numbers")
    @classmethod
    def _keys(cls, v: dict | None) -> dict | None:
        if v is not None and set(v) - {"insurer_number", "symbol", "number", "branch"}:
            raise ValueError("numbers: only insurer_number, symbol, number and branch")
        return v


def _json(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _uke(file: service.UkeFile) -> Response:
    return Response(
        file.content, media_type="text/plain; charset=Shift_JIS",
        headers={"Content-Disposition": f'attachment; filename="{file.filename}"', "X-Claims": str(file.claims)},
    )


def _reviewer_payer(who: Principal, payer: str | None) -> str | None:
    if who.subject in ("1", "2"):
        if payer not in (None, who.subject):
            raise Forbidden("payer", f"this reviewer key reviews payer {who.subject} only")
        return who.subject
    return payer


async def _body(request: Request) -> bytes:
    data = await request.body()
    if not data:
        raise InputError("body", "is empty: send the UKE file as the request body")
    if len(data) > MAX_FILE:
        raise InputError("body", f"is larger than {MAX_FILE // (1024 * 1024)} MiB")
    return data


def router(registry: Registry) -> APIRouter:
    api = APIRouter(prefix=PREFIX, tags=["claims"])
    engine = registry.engine

    principal, facility_key, _ = keys.dependencies(registry)
    reviewer_key = keys.requiring(principal, "reviewer", "the review needs a reviewer key (審査支払機関)")

    Facility = Annotated[Principal, Depends(facility_key)]
    Reviewer = Annotated[Principal, Depends(reviewer_key)]
    Anyone = Annotated[Principal, Depends(principal)]

    @api.post("/builds", status_code=201, summary="月のレセプトを受付記録から作成（不詳チェック付き）")
    def build(body: BuildRequest, who: Facility) -> Response:
        result = service.build(engine, who.subject, parse_month(body.month), remarks=body.remarks, unknown_insurer=body.unknown_insurer)
        return _json(result, 201)

    @api.get("", summary="この施設の月のレセプト")
    def claims(who: Facility, month: Annotated[str, Query(pattern=MONTH)]) -> Response:
        return _json({"facility_code": who.subject, "month": month, "claims": service.list_claims(engine, who.subject, parse_month(month))})

    @api.post("/files", status_code=201, summary="作成済みレセプトを請求（UKEファイル）")
    def write(body: WriteRequest, who: Facility) -> Response:
        result = service.write(
            engine, who.subject, parse_month(body.month), billing_month=parse_month(body.billing_month) if body.billing_month else None,
            payer=body.payer, include_failing=body.include_failing,
        )
        out = result.to_dict()
        for f in out["files"]:
            f["href"] = f"{PREFIX}/files/{f['billing_month']}/{f['payer']}"
        return _json(out, 201)

    @api.get("/files/{billing_month}/{payer}", summary="請求したUKEファイル（CP932）")
    def download(
        who: Facility, billing_month: Annotated[str, Path(pattern=MONTH)], payer: Literal["1", "2"]
    ) -> Response:
        files = service.filed_files(engine, who.subject, parse_month(billing_month, "billing_month"), payer=payer)
        if not files:
            raise InputError("billing_month", f"nothing was filed for {billing_month} to payer {payer}")
        return _uke(files[0])

    @api.post("/reads", summary="UKEファイルを読む（本文にファイル）→ レセプトごとのJSON",
              openapi_extra={"requestBody": {"content": {"application/octet-stream": {}, "text/plain": {}}, "required": True}})
    async def read(request: Request, who: Anyone) -> Response:
        # Parsing is CPU work: in a worker thread, so the event loop (and /health) keeps answering.
        return _json(await run_in_threadpool(service.read_file, await _body(request)))

    @api.get("/{claim_id}", summary="レセプト1件")
    def one(claim_id: Id, who: Anyone) -> Response:
        if who.role not in ("facility", "reviewer"):
            raise Forbidden("X-API-Key", "claims are for facilities and reviewers")
        found = service.claim_status(engine, claim_id)
        if who.role == "facility" and found["facility_code"] != who.subject:
            raise NotFound("claim_id", f"no claim {claim_id}")  # as for no claim at all: another facility's claims do not exist for it
        return _json(found)

    @api.post("/{claim_id}/reclaims", status_code=201, summary="返戻されたレセプトの再請求")
    def reclaim(claim_id: Id, body: ReclaimRequest, who: Facility) -> Response:
        return _json(service.reclaim(engine, who.subject, claim_id, parse_month(body.billing_month, "billing_month"), numbers=body.numbers), 201)

    @api.post("/reviews/uploads", status_code=201, summary="審査: UKEファイルの受付（本文にファイル）",
              openapi_extra={"requestBody": {"content": {"application/octet-stream": {}, "text/plain": {}}, "required": True}})
    async def upload(request: Request, who: Reviewer) -> Response:
        data = await _body(request)

        def load() -> dict:
            _reviewer_payer(who, uke.read(data).header.payer)
            return service.load_file(engine, data)

        return _json(await run_in_threadpool(load), 201)

    @api.post("/reviews", status_code=201, summary="審査: 振替・分割・返戻の判定")
    def review(body: ReviewRequest, who: Reviewer) -> Response:
        payer = _reviewer_payer(who, body.payer)
        return _json(service.review(engine, parse_month(body.billing_month, "billing_month"), body.review_date, payer=payer), 201)

    @api.get("/reviews/{run_id}", summary="審査結果（施設の鍵ではその施設の分のみ）")
    def result(run_id: Id, who: Anyone, facility_code: str | None = Query(None, max_length=10)) -> Response:
        if who.role == "facility":
            facility_code = who.subject
        elif who.role != "reviewer":
            raise Forbidden("X-API-Key", "review results are for facilities and reviewers")
        return _json(service.report(engine, run_id, facility_code))

    @api.get("/reviews/{run_id}/files/{payer}", summary="審査後のUKE（SN確認区分付き、施設の分）")
    def reviewed(run_id: Id, payer: Literal["1", "2"], who: Anyone, facility_code: str | None = Query(None, max_length=10)) -> Response:
        if who.role == "facility":
            facility_code = who.subject
        elif who.role != "reviewer":
            raise Forbidden("X-API-Key", "review results are for facilities and reviewers")
        if not facility_code:
            raise InputError("facility_code", "is required with a reviewer key")
        files = [f for f in service.reviewed_files(engine, run_id, facility_code) if f.payer == payer]
        if not files:
            raise InputError("payer", f"no paid claims of {facility_code} for payer {payer} in review {run_id}")
        return _uke(files[0])

    return api
