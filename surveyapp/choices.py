"""The closed sets of values that stored fields take, and their names.

Roles, wave modes, declared sample designs, plan methods, time precisions of microdata, token
lifetimes: the models check them, the services validate against them, the admin forms and the
command line offer them. They live here, apart from the ORM, so that `surveyapp --help` can show
them without importing SQLAlchemy (see tests/web/test_cli_startup.py).
"""
from __future__ import annotations

ROLES = ("admin", "analyst", "bureau")

WAVE_MODES = ("open", "invitation")
# How a wave's sample was drawn (surveyapp.services.sample_design explains each) and R's
# survey.lonely.psu rules for a stratum holding a single PSU.
SAMPLE_DESIGNS = ("district", "district_street", "street_psu")
LONELY_PSU_RULES = ("fail", "remove", "certainty", "adjust", "average")
DEFAULT_DESIGN = "district"
DEFAULT_LONELY_PSU = "adjust"
DESIGN_NAMES = {
    "district": ("按区分层抽样（每份答卷为一个单位）",
                 "stratified sample by district (each response its own unit)"),
    "district_street": ("区为层、区内各街道为子层（覆盖全部街道，每份答卷为一个单位）",
                        ("districts as strata with streets as strata inside them (every street "
                         "covered; each response its own unit)")),
    "street_psu": ("区内抽取街道为初级抽样单位（按街道总数作有限总体校正），街道内抽取居民",
                   ("streets sampled as PSUs within district strata (fpc from the district's "
                    "street count), residents sampled within streets")),
}
LONELY_NAMES = {
    "fail": ("报错", "refuse the analysis"),
    "remove": ("不计入方差", "contributes nothing to the variance"),
    "certainty": ("视为必选单位", "treated as a certainty unit"),
    "adjust": ("以总体均值为中心", "centred at the grand mean"),
    "average": ("取其他层的平均方差", "the average variance of the other strata"),
}

PLAN_METHODS = ("proportional", "sqrt", "neyman")
PLAN_SELECTIONS = ("all", "srs", "pps")

# How finely a microdata export gives submission times (surveyapp.services.disclosure).
TIME_PRECISIONS = ("day", "hour", "full")
DEFAULT_TIME_PRECISION = "day"

TOKEN_MAX_DAYS = 3650  # the longest an API token may live
