"""HTTP endpoints for the statistics (RULES section S), under /api/v1/stats. Thin: authenticate,
scope, call stats/.

Access: an `analyst` key sees everything; a facility key only its own facility (its
verifications and claims; no registration rate); an insurer key only its own members.
Parameters are those of `onshi stats`: month, to, by, formula, format (json | csv). JSON is a
list of {"month", "group", "numerator", "denominator", "rate"} with rate a fraction.
"""

from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from ...domain.errors import Forbidden, NotFound
from ...registry.service import Principal, Registry
from ...stats import output, rates, whatif
from ...stats.definitions import DIMENSIONS, FIGURES, REGISTRATION_DIMENSIONS
from ..common import keys

PREFIX = "/api/v1/stats"
MonthQ = Annotated[str, Query(max_length=10, description="the (first) month, YYYY-MM")]
ToQ = Annotated[str | None, Query(max_length=10, description="the last month of a range, YYYY-MM")]
FormatQ = Annotated[Literal["json", "csv"], Query(description="json (default) or csv")]


def _answer(rows: list, fmt: str, name: str) -> Response:
    if fmt == "csv":
        return Response(output.to_csv(rows).encode("utf-8"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return Response(orjson.dumps([r.to_dict() for r in rows]), media_type="application/json")


def router(registry: Registry) -> APIRouter:
    api = APIRouter(prefix=PREFIX, tags=["statistics"])
    engine = registry.engine
    principal, _, _ = keys.dependencies(registry)
    analyst = keys.requiring(principal, "analyst", "what-if reports are for analyst keys")
    Anyone = Annotated[Principal, Depends(principal)]

    @api.get("/usage", summary="マイナ保険証利用率 (R-S1 件数ベース / R-S2 レセプト件数ベース)",
             description="\n\n".join(f"**{k}** ({FIGURES[k].rule}): {FIGURES[k].formula}. {FIGURES[k].counts}" for k in ("visits", "claims", "claims_outpatient"))
             + f"\n\n`by`: {', '.join(DIMENSIONS)}.")
    def usage(who: Anyone, month: MonthQ, to: ToQ = None, by: Annotated[str | None, Query(max_length=24)] = None,
              formula: Annotated[str, Query(max_length=24)] = "visits", format: FormatQ = "json") -> Response:  # noqa: A002
        scope = rates.Scope.of(who.role, who.subject)
        query = rates.parse_query("usage", month, to, by, formula)
        return _answer(rates.compute(engine, query, scope), format, f"usage_{query.figure}_{month}")

    @api.get("/registration", summary="マイナ保険証利用登録率 (R-S3)",
             description=f"{FIGURES['registration'].formula}. {FIGURES['registration'].counts}\n\n`by`: {', '.join(REGISTRATION_DIMENSIONS)}.")
    def registration(who: Anyone, month: MonthQ, to: ToQ = None, by: Annotated[str | None, Query(max_length=24)] = None,
                     format: FormatQ = "json") -> Response:  # noqa: A002
        scope = rates.Scope.of(who.role, who.subject)
        if scope.facility_code:
            raise Forbidden("X-API-Key", "registration rates (R-S3) are about insurers' members: an analyst or insurer key is needed")
        return _answer(rates.compute(engine, rates.parse_query("registration", month, to, by), scope), format, f"registration_{month}")

    @api.get("/whatif", summary="保存された政策シミュレーション（what-if）の一覧")
    def whatif_runs(who: Annotated[Principal, Depends(analyst)]) -> Response:
        return Response(orjson.dumps(whatif.runs(engine)), media_type="application/json")

    @api.get("/whatif/{run_id}", summary="政策シミュレーション（what-if）の結果")
    def whatif_run(run_id: int, who: Annotated[Principal, Depends(analyst)]) -> Response:
        report = whatif.stored(engine, run_id)
        if report is None:
            raise NotFound("run_id", f"no what-if report {run_id}")
        return Response(orjson.dumps(report), media_type="application/json")

    return api
