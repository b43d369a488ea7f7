"""HTTP endpoints of insurer issuance (issue 12), under /api/v1/insurers/{insurer_number}/. Thin:
an insurer key acts for its own insurer only (another insurer's number is a 403; another
insurer's member, run or document a 404 that says nothing about it). Errors are problem+json.

- applications, card-cancellations, card-returns: insurer operations (validated, idempotent
  under `request_id`: 201 when carried out, 200 with the first answer when replayed);
- issuance-settings: the insurer's options (R-I3h, R-I6c) and print settings (GET, PUT);
- issuance-runs: start today's run for the insurer's members (202; it runs in the server, one
  at a time per insurer; the same request id again answers the same run), list and read runs
  (what they sent to this insurer's members), the documents sent, the PDF (in parts of 5,000
  pages, post-room order) and one member's documents as a PDF.
"""

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import or_, select
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ...domain.errors import NotFound
from ...issuance import documents as printed
from ...issuance.run import ALL
from ...issuance.service import run_view, start_insurer_run
from ...issuance.settings import IssuanceSettings, settings_of, write_settings
from ...registry.member_ops import CardCancellation, CardReturn, CertificateApplication
from ...registry.models import RequestId
from ...registry.schema import issuance_run
from ...registry.service import Principal, Registry
from ..common import keys

PREFIX = "/api/v1/insurers/{insurer_number}"
Id = Annotated[int, Path(ge=1, le=2**63 - 1, description="a database id (64-bit)")]
PDF = "application/pdf"


def _json(body: object, status: int = 200, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(body, default=str), status_code=status, media_type="application/json", headers=headers)


class RunRequest(BaseModel):
    """Start today's issuance run for this insurer's members."""

    model_config = ConfigDict(extra="forbid")
    request_id: str = RequestId


def router(registry: Registry) -> APIRouter:
    _, _, insurer_principal = keys.dependencies(registry)
    r = APIRouter(prefix=PREFIX, tags=["insurer issuance"])
    Insurer = Annotated[Principal, Depends(insurer_principal)]

    def _operation(kind: str, model: type[BaseModel]):  # noqa: ANN202
        def handler(body: model, who: Insurer) -> Response:
            result = registry.operate(who.subject, kind, body)
            return _json(result.body, 200 if result.replayed else 201, {"Idempotent-Replayed": "true"} if result.replayed else None)

        return handler

    for path, kind, model, summary in (
        ("applications", "application", CertificateApplication, "資格確認書の交付申請 (R-I3f)"),
        ("card-cancellations", "card_cancellation", CardCancellation, "利用登録解除 (R-I3c)"),
        ("card-returns", "card_return", CardReturn, "マイナンバーカードの返納 (R-I3c)"),
    ):
        r.post(f"/{path}", summary=summary, status_code=201)(_operation(kind, model))

    @r.get("/issuance-settings", summary="交付の設定（有効期限の決め方・全員交付・様式・交付者名）")
    def get_settings(who: Insurer) -> Response:
        found = settings_of(registry.engine, who.subject)
        if found is None:
            raise NotFound("insurer_number", f"unknown insurer {who.subject}")
        return _json(found.to_json())

    @r.put("/issuance-settings", summary="交付の設定を変更（全体を置き換え; request_id で冪等）", status_code=201,
           responses={200: {"description": "the same request id again: the first answer (Idempotent-Replayed: true)"}})
    def put_settings(body: IssuanceSettings, who: Insurer) -> Response:
        result = write_settings(registry.engine, who.subject, body)
        return _json(result.body, 200 if result.replayed else 201, {"Idempotent-Replayed": "true"} if result.replayed else None)

    @r.post("/issuance-runs", summary="本日の職権交付を実行（この保険者の加入者; 1件ずつ実行）", status_code=202,
            responses={202: {"description": "started: read it at /issuance-runs/{run_id}"}})
    async def post_run(body: RunRequest, who: Insurer) -> Response:
        view, fresh = await run_in_threadpool(start_insurer_run, registry, who.subject, body.request_id)
        return _json(view, 202 if fresh else 200, None if fresh else {"Idempotent-Replayed": "true"})

    @r.get("/issuance-runs", summary="職権交付の実行履歴（この保険者の分）")
    def list_runs(who: Insurer, limit: int = Query(20, ge=1, le=100)) -> Response:
        with registry.engine.connect() as conn:
            ids = [row.id for row in conn.execute(select(issuance_run.c.id).where(or_(issuance_run.c.scope == who.subject, issuance_run.c.scope == ALL))
                                                  .order_by(issuance_run.c.run_date.desc(), issuance_run.c.id.desc()).limit(limit))]
        return _json({"insurer_number": who.subject, "runs": [run_view(registry, i, who.subject) for i in ids]})

    def _run(who: Principal, run_id: int) -> dict:
        view = run_view(registry, run_id, who.subject)
        if view is None:
            raise NotFound("run_id", f"no issuance run {run_id} of insurer {who.subject}")
        return view

    @r.get("/issuance-runs/{run_id}", summary="職権交付の結果（書類の種類・根拠ルール別）")
    def get_run(who: Insurer, run_id: Id) -> Response:
        return _json(_run(who, run_id))

    @r.get("/issuance-runs/{run_id}/documents", summary="この実行で送付した書類（この保険者の加入者）")
    def run_documents(who: Insurer, run_id: Id, offset: int = Query(0, ge=0, le=10**9), limit: int = Query(100, ge=1, le=1000)) -> Response:
        _run(who, run_id)
        with registry.engine.connect() as conn:
            docs = printed.run_documents(conn, run_id, who.subject, offset=offset, limit=limit)
        return _json({"run_id": run_id, "offset": offset, "documents": docs})

    @r.get("/issuance-runs/{run_id}/pdf", summary="この実行の書類を印刷用 PDF で（郵便番号順、5,000ページずつ）", response_class=Response,
           responses={200: {"content": {PDF: {"schema": {"type": "string", "format": "binary"}}}, "description": "the PDF"}})
    def run_pdf(who: Insurer, run_id: Id, part: int = Query(1, ge=1, le=100_000)) -> Response:
        _run(who, run_id)
        result = printed.run_pdf_part(registry.engine, run_id, part, insurer=who.subject)
        if result is None:
            raise NotFound("part", f"run {run_id} has no part {part} for insurer {who.subject}")
        return Response(result.pdf, media_type=PDF, headers={"Content-Disposition": f'inline; filename="issuance-run{run_id}-{part:04d}.pdf"',
                                                              "X-Pages": str(result.pages), "X-Held-Back": str(len(result.held_back))})

    @r.get("/members/{qualification_id}/documents.pdf", summary="加入者1人分の交付書類 PDF（再印刷）", response_class=Response,
           responses={200: {"content": {PDF: {"schema": {"type": "string", "format": "binary"}}}, "description": "the PDF"}})
    def member_documents(who: Insurer, qualification_id: Id, run_id: int | None = Query(None, ge=1, le=2**63 - 1)) -> Response:
        result = printed.member_pdf(registry.engine, who.subject, qualification_id, run_id)
        if result is None:
            raise NotFound("qualification_id", f"insurer {who.subject} sent no document to member {qualification_id}")
        return Response(result.pdf, media_type=PDF, headers={"Content-Disposition": f'inline; filename="member-{qualification_id}.pdf"'})

    return r

