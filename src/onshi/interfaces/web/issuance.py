"""資格確認書等の交付 — the insurer's issuance pages (issue 12): its settings (R-I3h, R-I6c, the
printed form), applications for a 資格確認書 (R-I3f), 利用登録解除 and カード返納 (R-I3c), today's
run for its own members, what each run sent (by kind and rule, member by member) and the
PDFs to print. Thin like the other pages: the forms go to `Registry.operate` and
`issuance.settings`, the run to the HTTP layer's `start_insurer_run`; only the insurer's own
runs, members and documents are shown (another's: 404)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from ...domain.errors import InputError, ServiceError
from ...issuance import documents as printed
from ...issuance.settings import IssuanceSettings, settings_of, write_settings
from ...registry import models
from ...issuance.service import run_view, start_insurer_run
from ...registry.service import Registry
from . import forms

FORMS = ("application", "card_cancellation", "card_return")
PAGE_SIZE = 100
PDF_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def install(r: APIRouter, registry: Registry, *, render: Callable, signed_in: Callable, posted: Callable, page_error: Callable) -> None:  # noqa: C901
    def runs_of(insurer: str) -> list[dict]:
        from sqlalchemy import or_, select

        from ...issuance.run import ALL
        from ...registry.schema import issuance_run

        with registry.engine.connect() as conn:
            ids = [row.id for row in conn.execute(select(issuance_run.c.id).where(or_(issuance_run.c.scope == insurer, issuance_run.c.scope == ALL))
                                                  .order_by(issuance_run.c.run_date.desc(), issuance_run.c.id.desc()).limit(20))]
        return [run_view(registry, i, insurer) for i in ids]

    def page(request: Request, s, status: int = 200, failed: str | None = None, values: dict | None = None,  # noqa: ANN001
             errors: forms.Errors | None = None, result: dict | None = None, replayed: bool = False) -> Response:
        insurer = s.principal.subject
        settings = settings_of(registry.engine, insurer).to_json()
        page_forms = {}
        for kind in (*FORMS, "settings"):
            order = forms.SETTINGS_ORDER if kind == "settings" else tuple(f"{kind}.{f}" for f in forms.OPERATION_ORDER[kind])
            default = forms.settings_values(settings) if kind == "settings" else {}
            page_forms[kind] = forms.form_state(kind == failed, values, errors, order, default)
        return render(request, "insurer_issuance.html", s, status, title="資格確認書等の交付", active="/insurer/issuance", insurer=insurer,
                      settings=settings, forms=page_forms, runs=runs_of(insurer), result=result, replayed=replayed, run_error=None if failed != "run" else errors)

    @r.get("/insurer/issuance")
    def issuance_page(request: Request) -> Response:
        s = signed_in(request, "insurer")
        if isinstance(s, Response):
            return s
        return page(request, s)

    @r.post("/insurer/issuance/settings")
    async def settings_post(request: Request) -> Response:
        got = await posted(request, "insurer")
        if isinstance(got, Response):
            return got
        s, data = got
        body, errors = forms.settings_body(data)
        if not errors:
            try:
                models.parse(IssuanceSettings, body)
            except InputError as exc:
                errors.extend(exc.errors)
        if not errors:
            try:
                result = await run_in_threadpool(write_settings, registry.engine, s.principal.subject, body)
                return await run_in_threadpool(lambda: page(request, s, 200 if result.replayed else 201, result={**result.body, "operation": "settings"},
                                                            replayed=result.replayed))
            except (InputError, ServiceError) as exc:
                errors.extend(forms.service_errors(exc))
        return await run_in_threadpool(lambda: page(request, s, 422, "settings", data, errors))

    @r.post("/insurer/issuance/run")
    async def run_post(request: Request) -> Response:
        got = await posted(request, "insurer")
        if isinstance(got, Response):
            return got
        s, data = got
        try:
            view, _ = await run_in_threadpool(start_insurer_run, registry, s.principal.subject, data.text("request_id") or forms.new_request_id())
        except (InputError, ServiceError) as exc:
            errors = forms.Errors()
            errors.extend(forms.service_errors(exc), lambda f: "run")
            status = exc.status if isinstance(exc, ServiceError) else 422
            return await run_in_threadpool(lambda: page(request, s, status, "run", {}, errors))
        return RedirectResponse(f"/insurer/issuance/runs/{view['run_id']}", status_code=303)

    @r.post("/insurer/issuance/{kind}")
    async def operation_post(request: Request, kind: str) -> Response:
        got = await posted(request, "insurer")
        if isinstance(got, Response):
            return got
        s, data = got
        if kind not in FORMS:
            return page_error(request, s, 404, "この届出はありません", "交付申請・利用登録解除・カード返納のいずれかを選んでください。", back="/insurer/issuance")
        result, _, errors, status = await run_in_threadpool(forms.submit, registry, s.principal.subject, kind, data)
        if result is None:
            return await run_in_threadpool(lambda: page(request, s, status, kind, data, errors))
        return await run_in_threadpool(lambda: page(request, s, status, result=result.body, replayed=result.replayed))

    def own_run(request: Request, run_id: int):  # noqa: ANN202
        s = signed_in(request, "insurer")
        if isinstance(s, Response):
            return s, None
        view = run_view(registry, run_id, s.principal.subject)
        if view is None:
            return s, page_error(request, s, 404, "交付の記録が見つかりません", "この保険者の職権交付の記録に、指定のものはありません。", back="/insurer/issuance")
        return s, view

    @r.get("/insurer/issuance/runs/{run_id}")
    def run_page(request: Request, run_id: int, page_no: int = 1) -> Response:
        s, view = own_run(request, run_id)
        if isinstance(s, Response):
            return s
        if isinstance(view, Response):
            return view
        insurer = s.principal.subject
        page_no = max(1, min(page_no, 10**6))
        with registry.engine.connect() as conn:
            docs = printed.run_documents(conn, run_id, insurer, offset=(page_no - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        total = sum(view["documents"].values())
        return render(request, "issuance_run.html", s, title="職権交付の結果", active="/insurer/issuance", run=view, docs=docs,
                      page_no=page_no, pages=max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE), total=total, refresh=view["status"] == "running")

    @r.get("/insurer/issuance/runs/{run_id}/pdf")
    def run_pdf(request: Request, run_id: int, part: int = 1) -> Response:
        s, view = own_run(request, run_id)
        if isinstance(s, Response):
            return s
        if isinstance(view, Response):
            return view
        result = printed.run_pdf_part(registry.engine, run_id, max(1, min(part, 10**5)), insurer=s.principal.subject)
        if result is None:
            return page_error(request, s, 404, "印刷する書類はありません", "この実行で送付した書類はありません。", back=f"/insurer/issuance/runs/{run_id}")
        return Response(result.pdf, media_type="application/pdf",
                        headers=PDF_HEADERS | {"Content-Disposition": f'inline; filename="issuance-run{run_id}-{part:04d}.pdf"'})

    @r.get("/insurer/issuance/members/{qualification_id}.pdf")
    def member_pdf(request: Request, qualification_id: int, run: int | None = None) -> Response:
        s = signed_in(request, "insurer")
        if isinstance(s, Response):
            return s
        result = printed.member_pdf(registry.engine, s.principal.subject, qualification_id, run)
        if result is None:
            return page_error(request, s, 404, "印刷する書類はありません", "この保険者がこの加入者に送付した書類はありません。", back="/insurer/issuance")
        return Response(result.pdf, media_type="application/pdf", headers=PDF_HEADERS | {"Content-Disposition": f'inline; filename="member-{qualification_id}.pdf"'})

