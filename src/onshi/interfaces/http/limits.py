"""Request bodies are bounded before any parser sees them (issue 10 item 3).

`BodyLimit` wraps the whole application: a declared Content-Length over the route's limit is
answered 413 problem+json at once, without reading a byte; a body sent without one (chunked)
is counted as it arrives and refused with the same 413 the moment it passes the limit. The
routes that read their own bodies with their own, smaller limits and answer in their own
format (the lookups, the terminal XML, FHIR) keep them.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException

from ..common.problems import problem_body

MiB = 1024 * 1024
DEFAULT = 1 * MiB  # JSON requests and the pages' forms
UPLOADS = 64 * MiB  # a UKE claim file (claims.MAX_FILE)
LIMITS = (  # path prefix → limit (None: the route limits itself)
    ("/api/v1/lookups/", None),  # fastpath.MAX_BODY
    ("/oqs/", None),  # oqs_xml.codes.MAX_FILE_BYTES, answered with the SegmentOfResult 9 file
    ("/fhir/", None),  # fhir.http.MAX_BODY, answered with an OperationOutcome
    ("/api/v1/claims/reads", UPLOADS),
    ("/api/v1/claims/reviews/uploads", UPLOADS),
)


def limit_for(path: str) -> int | None:
    return next((limit for prefix, limit in LIMITS if path.startswith(prefix)), DEFAULT)


def _too_large(limit: int) -> str:
    return f"the request body is larger than {limit // MiB} MiB" if limit >= MiB else f"the request body is larger than {limit // 1024} KiB"


class BodyLimit:
    def __init__(self, app):  # noqa: ANN001
        self.app = app

    async def __call__(self, scope, receive, send):  # noqa: ANN001
        limit = limit_for(scope.get("path", "")) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope.get("headers", ()) if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            body = problem_body(413, "Request body too large", _too_large(limit)) if declared.isdigit() else problem_body(400, "Bad request", "Content-Length is not a number")
            status = 413 if declared.isdigit() else 400
            await send({"type": "http.response.start", "status": status, "headers": [
                (b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
            await send({"type": "http.response.body", "body": body})
            return
        seen = 0

        async def counted():  # noqa: ANN202
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:  # raised inside the route: the app's handler answers 413 problem+json
                    raise HTTPException(413, _too_large(limit))
            return message

        await self.app(scope, counted, send)
