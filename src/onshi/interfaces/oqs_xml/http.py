"""The facility XML messages over HTTP, for vendors who prefer it to folders.

`POST /oqs/v1/{message}` with the request file as the body (`OQSsiquc01req`,
`OQSmuquc01req`, `OQSmuquc02req`, `OQSsiimm01req`, `OQSmuimm01req`, `OQSmuimm02req`; a
trailing `.xml` is accepted) and a facility key in `X-API-Key`. The answer is the file the
terminal would write in res/, from the same service (service.py).

Status codes: 200 for every answer, errors in the file included (SegmentOfResult 9 or
ProcessingResultStatus 2) — except that a MedicalInstitutionCode other than the key's
facility gives 403 and a body over the size limit 413, each with the SegmentOfResult 9
file as body. A missing or unknown key is 401, an insurer's key 403, an unknown message 404
(problem+json, like the JSON API).
"""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ...domain.errors import Forbidden, NotFound
from ...registry.service import Registry
from ..common.keys import api_key
from . import codes
from .service import OqsService

MESSAGES = tuple(p for p in codes.REQUEST_PREFIXES)


def router(registry: Registry, service: OqsService | None = None) -> APIRouter:
    service = service or OqsService(registry)
    api = APIRouter(prefix="/oqs/v1", tags=["facility XML (オンライン資格確認 XML)"])

    @api.post(
        "/{message}",
        summary="XML の要求ファイルを送り、結果ファイルを受け取る",
        response_class=Response,
        responses={200: {"content": {"application/xml": {}}, "description": "the result file (res/)"}},
        openapi_extra={"requestBody": {"content": {"application/xml": {"schema": {"type": "string"}}}, "required": True}},
    )
    async def post(request: Request, background: BackgroundTasks, message: str = Path(max_length=40, description=", ".join(MESSAGES))) -> Response:
        name = message[:-4] if message.lower().endswith(".xml") else message
        try:
            prefix = codes.canonical_prefix(name)
        except KeyError:
            raise NotFound("message", f"unknown message {name[:40]!r}; one of {', '.join(MESSAGES)}") from None
        who = registry.authenticate(api_key(request.headers))
        if who.role != "facility":
            raise Forbidden("X-API-Key", "the XML interface needs a facility key")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > codes.MAX_FILE_BYTES:
                break  # answered with ERROR_TOO_LARGE below; the rest is not read
            chunks.append(chunk)
        body = b"".join(chunks) if size <= codes.MAX_FILE_BYTES else b" " * (codes.MAX_FILE_BYTES + 1)
        answer = await run_in_threadpool(service.answer, prefix, body, who.subject)
        if answer.queued:
            background.add_task(service.process_pending)
        return Response(answer.body, status_code=answer.status, media_type=f"application/xml; charset={answer.charset}")

    return api
