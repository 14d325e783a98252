"""API: the analysis of SPEC §6 (consult types and topics, repair quality per team)."""
from ticketing.analysis import queries
from ticketing.analysis.schemas import (ConsultFiguresSchema, ConsultQuerySchema, PeriodSchema,
                                        RepairQualitySchema)
from ticketing.apiutil import ApiBlueprint
from ticketing.auth.permissions import permission_required

blp = ApiBlueprint("analysis_api", __name__, url_prefix="/api/v1",
                   description="Analysis: recurring consults, repair quality per team")




@blp.route("/analysis/consults", methods=["GET"])
@blp.arguments(ConsultQuerySchema, location="query")
@blp.response(200, ConsultFiguresSchema)
@blp.errors(400, 401, 403)
@permission_required("analysis.view")
def consults(args):
    """The most frequent consult types and topics over a period (default: 30 days)."""
    return queries.consult_figures(**args)


@blp.route("/analysis/repair-quality", methods=["GET"])
@blp.arguments(PeriodSchema, location="query")
@blp.response(200, RepairQualitySchema)
@blp.errors(400, 401, 403)
@permission_required("analysis.view")
def repair_quality(args):
    """Repair quality per field team from the callbacks answered in a period: overall
    satisfaction and the three dimensions (attitude, standard, effect)."""
    return queries.repair_quality(**args)
