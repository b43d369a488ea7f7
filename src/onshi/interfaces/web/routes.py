"""The reception pages, server-rendered (Jinja2): 受付画面, 被保険者資格申立書, 本日の受付一覧,
保険者画面, 制度カレンダー, and the login that puts a verified key's principal in a session.

Handlers are thin: a visit goes to `frontdesk.live.record_visit` (channel "web"), an
insurer's form to `Registry.operate`, the calendar to `policy`; the pages only show what
those return. Form posts are same-origin and carry the session's CSRF token.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from collections import OrderedDict
from pathlib import Path
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ... import config
from ...domain.errors import InputError, ServiceError, Unauthorized
from ...domain.numbers import InsurerNumber
from ...domain.wareki import format_wareki
from ...frontdesk.live import VisitRequest, record_visit, visits_on
from ...policy import load_policy
from ...registry import models, operations
from ...registry.service import Principal, Registry
from . import display, forms, issuance, labels, stats_pages
from .session import Session, Sessions

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
HEADERS = {
    "Cache-Control": "no-store",  # pages hold personal data
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}
NAV = {
    "facility": [("/reception", "受付"), ("/reception/today", "本日の受付一覧"), ("/stats", "統計"), ("/calendar", "制度カレンダー")],
    "insurer": [("/insurer", "保険者画面"), ("/insurer/issuance", "資格確認書等の交付"), ("/stats", "統計"), ("/calendar", "制度カレンダー")],
    "analyst": [("/stats", "統計"), ("/stats/whatif", "政策シミュレーション"), ("/calendar", "制度カレンダー")],
}
HOME = {"facility": "/reception", "insurer": "/insurer", "analyst": "/stats", "reviewer": "/calendar"}
FORM_DEFAULTS = {"loss": {"loss.loss_reason": "99"}}


def _jst(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:  # SQLite keeps UTC without its offset
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(config.JST).strftime("%H:%M")


def _seed(name: str) -> str:
    return "公開資料" if name == "public" else f"資料{name[:3]}（{name}）"


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), undefined=StrictUndefined)
    env.filters |= {
        "wareki": lambda d: format_wareki(d, with_seireki=True) if d else "",
        "isowareki": lambda s: format_wareki(dt.date.fromisoformat(s), with_seireki=True) if s else "",
        "ratio": labels.ratio,
        "jst_time": _jst,
        "fid": lambda name: str(name).replace(".", "-").replace("_", "-"),
        "pairs": lambda items: [(x, x) for x in items],
        "seed": _seed,
    }
    env.globals["L"] = labels
    env.globals["m"] = env.get_template("macros.html").module
    return env


def _local_path(value: str | None) -> str | None:
    """Only a path on this site may follow a login (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    return value


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not sent by every browser on same-origin posts; the CSRF token decides
    return urlsplit(origin).netloc == request.headers.get("host", "")


def _day(value: str | None, field: str = "date") -> dt.date:
    return forms.parse_day(value, field) if value else config.today()


def router(registry: Registry) -> APIRouter:
    sessions = Sessions(registry)
    env = environment()
    r = APIRouter(include_in_schema=False)
    # A 受付 form sent twice (double click, reload) records one visit: (facility, form id) → visit.
    submitted: OrderedDict[tuple[str, str], tuple[dt.date, int]] = OrderedDict()
    submitted_lock = threading.Lock()

    # ------------------------------------------------------------ plumbing

    def who_label(p: Principal) -> str:
        if p.role in ("analyst", "reviewer"):
            return p.label or labels.ROLE[p.role]
        if p.role == "facility":
            fac = registry.facility(p.subject) or {}
            return f"{fac.get('name', '')}（{p.subject}）"
        return f"{_insurer_kind(p.subject)}（保険者番号 {p.subject}）"

    def render(request: Request, template: str, session: Session | None, status: int = 200, **ctx) -> HTMLResponse:  # noqa: ANN003
        who = session.principal if session else None
        ctx.setdefault("title", "オンライン資格確認")
        ctx |= {
            "request": request, "who": who, "who_label": who_label(who) if who else "", "csrf": session.csrf if session else "",
            "today": config.today(), "nav": NAV.get(who.role, []) if who else [], "active": ctx.get("active", request.url.path),
        }
        return HTMLResponse(env.get_template(template).render(**ctx), status_code=status, headers=HEADERS)

    def page_error(request: Request, session: Session | None, status: int, title: str, message: str, **ctx) -> HTMLResponse:  # noqa: ANN003
        return render(request, "error.html", session, status, title=title, message=message, back=ctx.get("back"), back_text=ctx.get("back_text"))

    def signed_in(request: Request, role: str | None) -> Session | Response:
        """The session of a signed-in user of `role` (None: any), or the response to give instead."""
        s = sessions.load(request)
        if s is None or s.principal is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        if role is not None and s.principal.role != role:
            what = "医療機関" if role == "facility" else "保険者"
            return page_error(request, s, 403, "この画面は利用できません", f"この画面は{what}の鍵でログインした場合に利用できます。", back=HOME[s.principal.role])
        return s

    async def posted(request: Request, role: str | None, multi: tuple[str, ...] = ()) -> tuple[Session, forms.FormData] | Response:
        s = await run_in_threadpool(signed_in, request, role)  # a database read: off the event loop
        if isinstance(s, Response):
            return s
        data = forms.FormData.of(await request.form(), multi)
        if not _same_origin(request) or not Sessions.csrf_ok(s, data.get("csrf")):
            return page_error(request, s, 403, "画面の有効期限が切れました", "もう一度、画面を開き直してから操作してください。", back=request.url.path)
        return s, data

    # ------------------------------------------------------------ login

    @r.get("/")
    def home(request: Request) -> Response:
        s = sessions.load(request)
        if s is None or s.principal is None:
            return RedirectResponse("/login", status_code=303)
        return RedirectResponse(HOME[s.principal.role], status_code=303)

    @r.get("/login")
    def login_page(request: Request, next: str | None = None) -> Response:  # noqa: A002
        s = sessions.load(request)
        if s is not None and s.principal is not None:
            return RedirectResponse(_local_path(next) or HOME[s.principal.role], status_code=303)
        s = s or Sessions.new()
        resp = render(request, "login.html", s, title="ログイン", errors=forms.Errors(), next=_local_path(next) or "")
        sessions.save(resp, request, s)
        return resp

    @r.post("/login")
    async def login(request: Request) -> Response:
        s = await run_in_threadpool(sessions.load, request)
        data = forms.FormData.of(await request.form())
        errors = forms.Errors()
        if not _same_origin(request) or not Sessions.csrf_ok(s, data.get("csrf")):
            s = Sessions.new()
            errors.add("api_key", "画面の有効期限が切れました。もう一度入力してください。")
            resp = render(request, "login.html", s, 403, title="ログイン", errors=errors, next=_local_path(data.text("next")) or "")
            sessions.save(resp, request, s)
            return resp
        try:
            principal = await run_in_threadpool(registry.authenticate, data.text("api_key"))
        except Unauthorized as exc:
            errors.add("api_key", exc.reason)
            return render(request, "login.html", s, 401, title="ログイン", errors=errors, next=_local_path(data.text("next")) or "")
        resp = RedirectResponse(_local_path(data.text("next")) or HOME[principal.role], status_code=303)
        await run_in_threadpool(sessions.login, resp, request, principal, data.text("api_key"))  # a new id and CSRF token
        return resp

    @r.post("/logout")
    async def logout(request: Request) -> Response:
        s = await run_in_threadpool(sessions.load, request)
        data = forms.FormData.of(await request.form())
        resp = RedirectResponse("/login", status_code=303)
        if Sessions.csrf_ok(s, data.get("csrf")) and _same_origin(request):
            await run_in_threadpool(sessions.logout, resp, s)  # the server forgets the session: the cookie is worthless
        return resp

    # ------------------------------------------------------------ 受付画面

    def reception_form(request: Request, s: Session, values: dict, errors: forms.Errors, status: int = 200) -> HTMLResponse:
        fac = registry.facility(s.principal.subject) or {"name": "", "code": s.principal.subject, "online": True}
        has_remarks = any(k.startswith("remarks.") or k in ("name", "kana", "sex") for k, v in values.items() if v) or any(
            k.startswith("remarks.") or k in ("name", "kana", "sex") for k in errors
        )
        errors = errors.ordered(forms.RECEPTION_ORDER)
        values = {**values, "form_id": values.get("form_id") or uuid.uuid4().hex}
        return render(request, "reception.html", s, status, title="受付", facility=fac, values=values, errors=errors, autofocus=not errors, open_remarks=has_remarks)

    @r.get("/reception")
    def reception(request: Request) -> Response:
        s = signed_in(request, "facility")
        if isinstance(s, Response):
            return s
        return reception_form(request, s, {"identity": "face", "device": "ok"}, forms.Errors())

    @r.post("/reception")
    async def reception_post(request: Request) -> Response:
        got = await posted(request, "facility", multi=("presented",))
        if isinstance(got, Response):
            return got
        s, data = got
        form_key = (s.principal.subject, data.text("form_id") or uuid.uuid4().hex)
        with submitted_lock:
            seen = form_key in submitted
            done = submitted.setdefault(form_key, None)  # reserved while it is being recorded
        if seen:
            where = f"/reception/visits/{done[0].isoformat()}/{done[1]}" if done else "/reception/today"
            return RedirectResponse(where, status_code=303)
        try:
            return await record(request, s, data, form_key)
        finally:
            with submitted_lock:
                if submitted.get(form_key) is None:
                    submitted.pop(form_key, None)  # not recorded: the form may be sent again

    async def record(request: Request, s: Session, data: forms.FormData, form_key: tuple[str, str]) -> Response:
        body, errors = forms.visit_request(data)
        try:  # every field error at once; nothing is stored from a rejected visit
            models.parse(VisitRequest, body)
        except InputError as exc:
            errors.extend([e for e in exc.errors if forms.visit_field(e.field) not in errors], forms.visit_field)
        if errors:
            return reception_form(request, s, data, errors, 422)
        lookups: list = []
        on_lookup = display.lookup_observer(lookups, s.principal.subject, registry)
        try:
            decision = await run_in_threadpool(lambda: record_visit(registry, s.principal.subject, body, channel="web", on_lookup=on_lookup))
        except (InputError, ServiceError) as exc:
            errors.extend(forms.service_errors(exc), _lookup_field(body))
            return reception_form(request, s, data, errors, 422)
        visit = display.visit_from_request(decision, body, lookups, registry.repertoire)
        with submitted_lock:
            submitted[form_key] = (visit.care_date, visit.visit_id)
            while len(submitted) > 2000:
                submitted.popitem(last=False)
        return result_page(request, s, decision, visit, lookups, values=data | {"form_id": uuid.uuid4().hex})

    def result_page(request: Request, s: Session, decision: dict, visit: display.VisitView, lookups: list, values: dict | None) -> HTMLResponse:
        fac = registry.facility(s.principal.subject) or {}
        sheet = display.declaration_sheet(visit, fac, decision) if decision["claim"]["basis"] == "unknown" else None
        return render(
            request, "result.html", s, title="判定結果", active="/reception", d=decision, visit=visit,
            lookups=display.lookup_rows(lookups, visit.presented), sheet=sheet, fresh=values is not None,
            values=values or {}, errors=forms.Errors(), remark_values=display.remark_values(visit), autofocus=False, open_remarks=False,
        )

    def stored_visit(request: Request, day: str, visit_id: int) -> tuple[Session, dict, display.VisitView] | Response:
        """A visit this facility recorded (the signed-in session checked first), or the page to show instead."""
        s = signed_in(request, "facility")
        if isinstance(s, Response):
            return s
        try:
            care_date = dt.date.fromisoformat(day)
        except ValueError:
            care_date = None
        row = next((v for v in visits_on(registry, s.principal.subject, care_date) if v["id"] == visit_id), None) if care_date else None
        if row is None:
            return page_error(request, s, 404, "受付の記録が見つかりません", "この施設のその日の受付に、指定の記録はありません。", back="/reception/today")
        decision = json.loads(row["decision"]) | {"visit_id": row["id"]}
        if decision.get("simulated"):  # `onshi simulate` keeps the decision without its explanation and citations
            decision = {"explanation": display.SIMULATED_EXPLANATION, "citations": [], **decision}
        return s, decision, display.visit_from_row(row, registry.repertoire)

    @r.get("/reception/visits/{day}/{visit_id}")
    def visit_page(request: Request, day: str, visit_id: int) -> Response:
        got = stored_visit(request, day, visit_id)
        if isinstance(got, Response):
            return got
        s, decision, visit = got
        return result_page(request, s, decision, visit, [], values=None)

    @r.get("/reception/visits/{day}/{visit_id}/declaration")
    def declaration_page(request: Request, day: str, visit_id: int) -> Response:
        got = stored_visit(request, day, visit_id)
        if isinstance(got, Response):
            return got
        s, decision, visit = got
        if decision["claim"]["basis"] != "unknown":
            return page_error(request, s, 404, "申立書はありません", "被保険者資格申立書は、不詳レセプトで請求する受付にだけ作成します。", back=f"/reception/visits/{day}/{visit_id}")
        sheet = display.declaration_sheet(visit, registry.facility(s.principal.subject) or {}, decision)
        return render(request, "declaration.html", s, title="被保険者資格申立書", active="/reception/today", visit=visit, sheet=sheet)

    # ------------------------------------------------------------ 本日の受付一覧

    @r.get("/reception/today")
    def today_page(request: Request, date: str | None = None) -> Response:
        s = signed_in(request, "facility")
        if isinstance(s, Response):
            return s
        try:
            day = _day(date)
        except InputError:
            day = config.today()
        code = s.principal.subject
        rows = visits_on(registry, code, day)
        for v in rows:
            v["presented"] = (v["presented"] or "").split()
        log = registry.log.for_facility(code, day)
        return render(
            request, "today.html", s, title="本日の受付一覧", day=day, visits=rows, log=log,
            prev_day=day - dt.timedelta(days=1), next_day=day + dt.timedelta(days=1),
        )

    # ------------------------------------------------------------ 保険者画面

    def insurer_page(request: Request, s: Session, status: int = 200, failed: str | None = None, values: dict | None = None,
                     errors: forms.Errors | None = None, result: dict | None = None, replayed: bool = False) -> HTMLResponse:
        subject = s.principal.subject
        page_forms = {
            kind: forms.form_state(kind == failed, {k: v for k, v in (values or {}).items() if k != f"{kind}.my_number"}, errors,
                                   tuple(f"{kind}.{f}" for f in forms.OPERATION_ORDER[kind]), dict(FORM_DEFAULTS.get(kind, {})))
            for kind in forms.MEMBER_OPERATIONS
        }
        return render(
            request, "insurer.html", s, status, title="保険者画面", active="/insurer", insurer=subject, insurer_kind=_insurer_kind(subject),
            is_kouki=_is_kouki(subject), forms=page_forms, result=result, replayed=replayed,
            compliance=registry.compliance(subject), deadlines=operations.deadline_days(config.today()),
        )

    @r.get("/insurer")
    def insurer(request: Request) -> Response:
        s = signed_in(request, "insurer")
        if isinstance(s, Response):
            return s
        return insurer_page(request, s)

    @r.post("/insurer/{kind}")
    async def insurer_post(request: Request, kind: str) -> Response:
        got = await posted(request, "insurer")
        if isinstance(got, Response):
            return got
        s, data = got
        if kind not in forms.MEMBER_OPERATIONS:
            return page_error(request, s, 404, "この届出はありません", "資格取得・資格変更・資格喪失のいずれかを選んでください。", back="/insurer")
        if data.text("insurer_number") != s.principal.subject:
            return page_error(request, s, 403, "他の保険者の届出はできません",
                              f"ログインしている保険者（{s.principal.subject}）以外の加入者は登録・変更できません。", back="/insurer")
        result, body, errors, status = await run_in_threadpool(forms.submit, registry, s.principal.subject, kind, data)
        if result is None:
            return await run_in_threadpool(insurer_page, request, s, status, kind, data, errors)
        shown = result.body | {"name": body.get("name"), "kana": body.get("kana")} if kind == "acquisition" else result.body
        # the page reads the compliance summary: a database query, off the event loop
        return await run_in_threadpool(lambda: insurer_page(request, s, status, result=shown, replayed=result.replayed))

    # ------------------------------------------------------------ 制度カレンダー

    @r.get("/calendar")
    def calendar(request: Request, date: str | None = None) -> Response:
        s = signed_in(request, None)
        if isinstance(s, Response):
            return s
        errors = forms.Errors()
        try:
            day = _day(date)
        except InputError as exc:
            errors.extend(exc.errors)
            day = config.today()
        policy = load_policy()
        return render(
            request, "calendar.html", s, 200 if not errors else 422, title="制度カレンダー", day=day, errors=errors,
            day_text=date if errors else day.isoformat(),
            rules=display.policy_calendar(policy, day), milestones=display.milestones(policy),
        )

    # ------------------------------------------------------------ 統計, 政策シミュレーション (stats_pages.py)

    stats_pages.install(r, registry=registry, render=render, signed_in=signed_in, page_error=page_error, who_label=who_label)

    # ------------------------------------------------------------ 資格確認書等の交付 (issue 12)

    issuance.install(r, registry, render=render, signed_in=signed_in, posted=posted, page_error=page_error)

    # ------------------------------------------------------------ static files

    @r.get("/static/{name}")
    def static(name: str) -> Response:
        path = STATIC / name
        if "/" in name or path.suffix not in STATIC_TYPES or not path.is_file():
            return Response("not found", status_code=404, media_type="text/plain")
        return Response(path.read_bytes(), media_type=STATIC_TYPES[path.suffix], headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})

    return r


def _lookup_field(body: dict):  # noqa: ANN202
    """A lookup's error names the query's field: those numbers came from the document."""

    def rename(field: str) -> str:
        field = forms.visit_field(field)
        if field in forms.DOC_FIELDS and body.get("documents"):
            return f"document.{field}"
        return field

    return rename


def _insurer_kind(number: str) -> str:
    try:
        return labels.INSURER_KIND.get(InsurerNumber(number).kind, "保険者")
    except ValueError:
        return "保険者"


def _is_kouki(number: str) -> bool:
    try:
        return InsurerNumber(number).is_kouki
    except ValueError:
        return False
