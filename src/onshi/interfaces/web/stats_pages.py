"""The 統計 page (usage and registration rates with server-side SVG charts, a table under each
chart, CSV downloads, the definitions) and the what-if page (stored `onshi whatif` reports).

Who sees what is the API's rule (stats.rates.Scope): an analyst everything, a facility its own
facility, an insurer its own members. Mounted by routes.router through `install`, with the
pages' own render, session and error helpers.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Callable

from fastapi import APIRouter, Request
from starlette.responses import Response

from ... import config
from ...domain.dates import add_months
from ...domain.errors import InputError, ServiceError
from ...registry.schema import simulation_month
from ...registry.service import Registry
from ...stats import charts, output, whatif
from ...stats.calibration import Calibration
from ...stats.definitions import FIGURES, KIND_NAMES
from ...stats.rates import Row, Scope, compute, parse_query

STATS_ROLES = ("analyst", "facility", "insurer")
BRANCH_FIGURES = {"registration": "利用登録率（R-S3）", "visits": "利用率・件数ベース（R-S1）"}


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _default_range(registry: Registry) -> tuple[dt.date, dt.date]:
    """The simulated months if there are any, else the twelve months before this one."""
    from sqlalchemy import func, select

    with registry.engine.connect() as conn:
        lo, hi = conn.execute(select(func.min(simulation_month.c.month), func.max(simulation_month.c.month))).one()
    if hi is not None:
        return max(lo, add_months(hi, -14)), hi
    last = add_months(config.today().replace(day=1), -1)
    return add_months(last, -11), last


def _published(month: str) -> tuple[dict[str, float], str]:
    """Published age-band figures of that month (the calibration table's targets, seed 002)."""
    found = {t["group"]: float(t["rate"]) for t in Calibration.load().targets()
             if str(t.get("month")) == month and t.get("formula") == "visits" and t.get("group") not in ("all", None)}
    return found, f"公表値（{month}、資料002）" if found else ""


def _scope_text(scope: Scope, who_label: str) -> str:
    if scope.everything:
        return "全国（すべての医療機関・保険者）"
    if scope.facility_code:
        return f"この医療機関・薬局：{who_label}"
    return f"この保険者の加入者：{who_label}"


def install(r: APIRouter, *, registry: Registry, render: Callable, signed_in: Callable, page_error: Callable, who_label: Callable) -> None:
    engine = registry.engine

    def allowed(request: Request, roles: tuple[str, ...]):  # noqa: ANN202
        s = signed_in(request, None)
        if isinstance(s, Response):
            return s
        if s.principal.role not in roles:
            return page_error(request, s, 403, "この画面は利用できません", "統計は分析者・医療機関・保険者の鍵で利用できます。", back="/")
        return s

    @r.get("/stats")
    def stats_page(request: Request, month: str | None = None, to: str | None = None, branch: str = "registration") -> Response:
        s = allowed(request, STATS_ROLES)
        if isinstance(s, Response):
            return s
        scope = Scope.of(s.principal.role, s.principal.subject)
        start, end = _default_range(registry)
        errors: dict[str, list[str]] = {}
        try:
            q = parse_query("usage", month or f"{start:%Y-%m}", to or (f"{end:%Y-%m}" if not month else None))
        except InputError as exc:
            for e in exc.errors:
                errors.setdefault(e.field, []).append(e.reason)
            q = parse_query("usage", f"{start:%Y-%m}", f"{end:%Y-%m}")
        first, last = f"{q.start:%Y-%m}", f"{q.end:%Y-%m}"
        branch = branch if branch in BRANCH_FIGURES else "registration"
        series = {f: compute(engine, parse_query("usage", first, last, None, f), scope) for f in ("visits", "claims")}
        ages = {f: compute(engine, parse_query("usage", last, None, "age_band", f), scope) for f in ("visits", "claims")}
        published, published_label = _published(last)
        sections = [
            {
                "id": "series", "title": f"マイナ保険証利用率の推移（{first}〜{last}）",
                "chart": _data_uri(charts.series(series, "マイナ保険証利用率（月次）")),
                "alt": "月ごとのマイナ保険証利用率。件数ベースとレセプト件数ベースの折れ線グラフ。数値は下の表のとおり。",
                "columns": ("visits", "claims"), "rows": _merge(series), "key": "月",
                "downloads": [(FIGURES[f].name, f"/stats/download?figure={f}&month={first}&to={last}") for f in ("visits", "claims")],
            },
            {
                "id": "age", "title": f"年齢階級別の利用率（{last}）",
                "chart": _data_uri(charts.by_age(ages, f"年齢階級別 マイナ保険証利用率（{last}）", published, published_label)),
                "alt": "年齢階級ごとのマイナ保険証利用率の棒グラフ。数値は下の表のとおり。", "columns": ("visits", "claims"),
                "rows": _merge(ages), "key": "年齢階級", "published": published, "published_label": published_label,
                "downloads": [(FIGURES[f].name, f"/stats/download?figure={f}&month={last}&by=age_band") for f in ("visits", "claims")],
            },
        ]
        if not scope.facility_code:
            figure = "registration" if branch == "registration" else "visits"
            kind = "registration" if figure == "registration" else "usage"
            rows = compute(engine, parse_query(kind, last, None, "branch", None if kind == "registration" else figure), scope)
            national = compute(engine, parse_query(kind, last, None, None, None if kind == "registration" else figure), scope)
            if rows:
                nat = national[0].rate if national else None
                sections.append({
                    "id": "branch", "title": f"協会けんぽ 都道府県支部別の{BRANCH_FIGURES[branch]}（{last}）",
                    "chart": _data_uri(charts.by_branch(rows, nat, f"協会けんぽ支部別 {BRANCH_FIGURES[branch]}（{last}）", figure)),
                    "alt": "都道府県支部ごとの率の横棒グラフ（高い順、破線は全国）。数値は下の表のとおり。", "columns": (figure,),
                    "rows": [(r.label, {figure: r}) for r in sorted(rows, key=lambda r: -(r.rate or 0))] + [("全国", {figure: national[0]})] if national else [],
                    "key": "支部", "branch": branch,
                    "downloads": [(FIGURES[figure].name, f"/stats/download?figure={figure}&month={last}&by=branch")],
                })
        return render(
            request, "stats.html", s, title="統計", active="/stats", sections=sections, figures=FIGURES, errors=errors,
            values={"month": month or first, "to": to or last}, scope_text=_scope_text(scope, who_label(s.principal)),
            branch_figures=BRANCH_FIGURES, branch=branch, first=first, last=last, percent=output.percent,
        )

    @r.get("/stats/download")
    def download(request: Request, figure: str = "visits", month: str = "", to: str | None = None, by: str | None = None) -> Response:
        s = allowed(request, STATS_ROLES)
        if isinstance(s, Response):
            return s
        try:
            kind = "registration" if figure == "registration" else "usage"
            q = parse_query(kind, month, to, by, None if kind == "registration" else figure)
            rows = compute(engine, q, Scope.of(s.principal.role, s.principal.subject))
        except (InputError, ServiceError) as exc:
            return page_error(request, s, 422 if isinstance(exc, InputError) else exc.status, "ダウンロードできません", str(exc), back="/stats")
        name = f"{q.figure}_{q.start:%Y%m}" + (f"-{q.end:%Y%m}" if q.end != q.start else "") + (f"_{q.by}" if q.by else "")
        return Response(
            ("\ufeff" + output.to_csv(rows)).encode("utf-8"),  # BOM: Excel opens UTF-8 CSV with it
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"', "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
        )

    @r.get("/stats/whatif")
    def whatif_page(request: Request, run: int | None = None) -> Response:
        s = allowed(request, ("analyst",))
        if isinstance(s, Response):
            return s
        reports = whatif.runs(engine)
        chosen = run if run is not None else (reports[0]["id"] if reports else None)
        report = whatif.stored(engine, chosen) if chosen is not None else None
        if run is not None and report is None:
            return page_error(request, s, 404, "結果が見つかりません", f"政策シミュレーション {run} はありません。", back="/stats/whatif")
        chart = _data_uri(charts.whatif_changes(report["rows"], "ポリシー変更による変化（月別）")) if report and report["rows"] else None
        return render(request, "whatif.html", s, title="政策シミュレーション", active="/stats/whatif", runs=reports, report=report,
                      chart=chart, kinds=KIND_NAMES)


def _merge(by_formula: dict[str, list[Row]]) -> list[tuple[str, dict[str, Row]]]:
    """(group, {formula: row}) in the order of the first formula's rows."""
    out: dict[str, dict[str, Row]] = {}
    for f, rows in by_formula.items():
        for r in rows:
            out.setdefault(r.month if r.group == "all" else r.group, {})[f] = r
    return list(out.items())


__all__ = ["install"]
