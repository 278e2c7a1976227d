"""The OpenAPI 3.1 document of /api/v1; tests check it against the routes and real responses."""
from __future__ import annotations

from analysis.composite_index import NORMALISATIONS, WEIGHTINGS
from surveyapp.choices import DEFAULT_TIME_PRECISION, TIME_PRECISIONS
from surveyapp.converters import DATABASE_INTEGER_MAX
from surveyapp.exports import FORMATS
from surveyapp.exports.codebook import LANGUAGES
from surveyapp.i18n import CONTENT_LANGUAGE
from surveyapp.services.composite import SURVEY_SCORES
from surveyapp.specs import (
    CALFUNS,
    EXCLUSION_POLICIES,
    INTERVAL_METHODS,
    LONELY_PSU,
    PROPORTION_METHODS,
    REGRESSION_MODELS,
    TABLE_VARIABLES,
    VARIANCE_METHODS,
    WEIGHTING_METHODS,
)

NUMBER_OR_NULL = {"type": ["number", "null"]}
SUPPRESSED = {"type": "boolean", "description": "Withheld by the disclosure policy (bureau "
                                               "callers): the count stays, the figures are null"}
SCORE = {"type": "string", "description": "index, overall, dimension:<id> or item:<id>"}
TEXT_OR_NULL = {"type": ["string", "null"]}


def _error_response(description: str) -> dict:
    return {"description": description,
            "headers": {"Content-Language": {"$ref": "#/components/headers/ContentLanguage"}},
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


ACCEPT_LANGUAGE = {
    "name": "Accept-Language", "in": "header", "required": False, "schema": {"type": "string"},
    "description": "Language of error messages: Chinese by default, English when the client "
                   "ranks English (en, en-US ...) above Chinese, e.g. 'en' or 'en-GB, zh;q=0.5'",
}
CONTENT_LANGUAGE_HEADER = {
    "description": "Language of 'message' and 'problems' (zh-CN or en), as negotiated from "
                   "Accept-Language", "required": True,
    "schema": {"enum": sorted(CONTENT_LANGUAGE.values())},
}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "400": _error_response("Malformed request (bad JSON, unknown query value)"),
    "401": _error_response("Missing, unknown or revoked bearer token"),
}
ACCEPTED = {**_json({"$ref": "#/components/schemas/Job"},
                    "Accepted: poll the job's url (also in Location)"),
            "headers": {"Location": {"schema": {"type": "string"}}}}

_LATENT_DIMENSION = {
    "type": "object",
    "required": ["dimension", "importance", "weight", "impact", "performance", "quadrant"],
    "properties": {
        "dimension": {"type": "string"}, "name_zh": {"type": "string"},
        "name_en": {"type": "string"},
        **{name: NUMBER_OR_NULL for name in (
            "importance", "importance_se", "weight", "weight_se", "impact", "impact_se",
            "performance", "performance_se")},
        "quadrant": {"enum": ["keep", "improve", "secondary", "surplus"],
                     "description": "GB/T 19038 Annex D: improve = high importance, low "
                                    "performance (lines at the means over the dimensions)"}},
}

PLAN_ROW = {
    "type": "object",
    "required": ["code", "name", "population", "selected", "inclusion_probability", "target",
                 "valid_responses", "expected_half_width"],
    "properties": {
        "code": TEXT_OR_NULL,
        "name": {"type": "object", "properties": {"zh": {"type": "string"},
                                                  "en": {"type": "string"}}},
        "population": {"type": "integer", "description": "Adult population"},
        "selected": {"type": "boolean", "description": "Drawn (or every street covered)"},
        "inclusion_probability": {**NUMBER_OR_NULL, "description": "The street's π (null for "
                                                                   "district and city lines)"},
        "target": {"type": "integer", "description": "Planned valid responses"},
        "valid_responses": {"type": "integer", "description": "Responses so far, after "
                                                              "exclusions"},
        "expected_half_width": {**NUMBER_OR_NULL, "description": "Expected 95% CI half-width "
                                "of the 0-100 index, from last wave's variance with the fpc"},
    },
}

SCHEMAS = {
    "LatentIndex": {
        "type": "object", "required": ["wave", "questionnaire", "area", "available"],
        "properties": {
            "wave": {"type": "string"}, "questionnaire": {"type": "string"},
            "area": {"type": "string", "description": "A district code, or 'city'"},
            "available": {"type": "boolean"},
            "reason": {"type": "string", "description": "Why there is no index (when "
                                                        "available is false)"},
            **{name: NUMBER_OR_NULL for name in (
                "index", "se", "ci_low", "ci_high", "level", "overall_satisfaction",
                "overall_satisfaction_se", "r_squared")},
            "df": {"type": "integer"}, "n": {"type": "integer"},
            "variance": {"type": "string"},
            "dimensions": {"type": "array", "items": _LATENT_DIMENSION},
            "items": {"type": "array", "items": {
                "type": "object", "properties": {
                    "item": {"type": "string"}, "dimension": {"type": "string"},
                    "weight": NUMBER_OR_NULL, "loading": NUMBER_OR_NULL}}},
        },
    },
    "Error": {
        "type": "object", "required": ["error", "message"],
        "properties": {"error": {"type": "string", "description": "A fixed code, never "
                                                                  "translated"},
                       "message": {"type": "string", "description": "In the language of "
                                   "Content-Language; starts with the field when there is one"},
                       "problems": {"type": "array", "items": {"type": "string"},
                                    "description": "One entry per problem, starting with its "
                                                   "path as written in the spec (never "
                                                   "translated), e.g. 'weighting.method: ...'; "
                                                   "the rest in the language of "
                                                   "Content-Language"}},
    },
    "PlanRow": PLAN_ROW,
    "Plan": {
        "type": "object",
        "required": ["wave", "questionnaire", "plan"],
        "properties": {
            "wave": {"type": "string"}, "questionnaire": {"type": "string"},
            "plan": {"type": ["object", "null"], "description": "null: the wave has no plan",
                     "properties": {
                         "method": {"enum": ["proportional", "sqrt", "neyman"]},
                         "total": {"type": "integer"}, "min_per_street": {"type": "integer"},
                         "selection": {"enum": ["all", "srs", "pps"]},
                         "streets_per_district": {"type": ["integer", "null"]},
                         "seed": {"type": ["integer", "null"]},
                         "sample_design": {"type": "string"},
                         "population_source": {"type": "string"}, "sd_wave": TEXT_OR_NULL,
                         "city": {"oneOf": [{"$ref": "#/components/schemas/PlanRow"},
                                            {"type": "null"}],
                                  "description": "null for bureau callers"},
                         "districts": {"type": "array", "items": {"allOf": [
                             {"$ref": "#/components/schemas/PlanRow"},
                             {"type": "object", "properties": {"streets": {
                                 "type": "array",
                                 "items": {"$ref": "#/components/schemas/PlanRow"}}}}]}}}},
        },
    },
    "Wave": {
        "type": "object",
        "required": ["label", "questionnaire", "questionnaire_version", "opens_at", "closes_at",
                     "mode", "status", "districts"],
        "properties": {
            "label": {"type": "string"}, "questionnaire": {"type": "string"},
            "questionnaire_version": {"type": "string"},
            "opens_at": {"type": "string", "format": "date-time"},
            "closes_at": {"type": "string", "format": "date-time"},
            "mode": {"enum": ["open", "invitation"]},
            "status": {"enum": ["scheduled", "open", "closed"]},
            "districts": {"type": "array", "items": {"type": "string"},
                          "description": "District codes the caller may see"},
        },
    },
    "Questionnaire": {
        "type": "object", "required": ["key", "version", "content_hash", "title", "bands"],
        "properties": {"key": {"type": "string"}, "version": {"type": "string"},
                       "content_hash": {"type": "string"},
                       "title": {"type": "object", "properties": {
                           "zh": {"type": "string"}, "en": {"type": "string"}}},
                       "bands": {"type": "array", "description":
                                 "The questionnaire's band table, best band first: scores "
                                 "lower <= s < upper (the top band includes 100)",
                                 "items": {"$ref": "#/components/schemas/Band"}}},
    },
    "Band": {
        "type": "object", "required": ["lower", "upper", "label"],
        "properties": {"lower": {"type": "number"}, "upper": {"type": "number"},
                       "label": {"type": "object", "properties": {
                           "zh": {"type": "string"}, "en": {"type": "string"}}}},
    },
    "EstimateSpec": {
        "type": "object", "required": ["waves"],
        "description": "See surveyapp/specs.py; every problem is reported with its path.",
        "properties": {
            "spec_version": {"const": 1},
            "name": TEXT_OR_NULL,
            "waves": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
            "questionnaire": TEXT_OR_NULL,
            "outcomes": {"type": "array", "items": {"oneOf": [
                {"enum": ["index", "overall", "dimensions", "items"]},
                {"type": "object", "required": ["dimension"],
                 "properties": {"dimension": {"type": "string"}}},
                {"type": "object", "required": ["item"], "properties": {"item": {"type": "string"}}},
                {"type": "object", "required": ["proportion"], "properties": {
                    "proportion": {"type": "string"}, "at_least": {"type": "number"},
                    "band": {"type": "string"}, "name": {"type": "string"}}},
                {"type": "object", "required": ["quantile"],
                 "description": "Quantile (default the median) with Woodruff's interval, as R's "
                                "svyquantile; needs variance.method taylor",
                 "properties": {"quantile": SCORE,
                                "p": {"type": "number", "minimum": 0, "maximum": 1,
                                      "default": 0.5},
                                "name": TEXT_OR_NULL}},
                {"type": "object", "required": ["ratio", "denominator"],
                 "description": "Ratio of weighted totals of two scores, as R's svyratio; needs "
                                "variance.method taylor",
                 "properties": {"ratio": SCORE, "denominator": SCORE, "name": TEXT_OR_NULL}},
            ]}},
            "domains": {"type": "array", "items": {"type": "string"}},
            "design": {"type": ["object", "null"], "description": "omitted or null: each "
                       "wave's declared sample design; given: overrides it (results.waves."
                       "<wave>.design.source says which)", "properties": {
                "strata": TEXT_OR_NULL, "psu": TEXT_OR_NULL,
                "lonely_psu": {"enum": list(LONELY_PSU)}}},
            "weighting": {"type": "object", "properties": {
                "method": {"enum": list(WEIGHTING_METHODS)}, "margins": TEXT_OR_NULL,
                "variables": {"type": "array", "items": {"type": "string"}},
                "trim": {"type": ["object", "null"], "description": "multiples of the mean "
                         "weight", "properties": {"lower": NUMBER_OR_NULL,
                                                  "upper": NUMBER_OR_NULL}},
                "epsilon": {"type": "number"}, "max_iter": {"type": "integer"},
                "partial": {"type": "boolean", "default": False,
                            "description": "poststratify: ignore cells without respondents"},
                "calfun": {"enum": [*CALFUNS, None],
                           "description": "calibrate: distance (default linear)"},
                "bounds": {"type": ["object", "null"],
                           "description": "calibrate: limits of the calibrated weight as a "
                                          "multiple of the district expansion weight (logit: "
                                          "both needed)",
                           "properties": {"lower": {"type": ["number", "null"], "minimum": 0,
                                                    "maximum": 1},
                                          "upper": {"type": ["number", "null"], "minimum": 1}}}}},
            "variance": {"type": "object", "properties": {
                "method": {"enum": list(VARIANCE_METHODS),
                           "description": "bootstrap: Rao-Wu (R's subbootstrap); bootstrap_cd: "
                                          "Canty-Davison with the fpc (R's bootstrap); brr, fay: "
                                          "balanced repeated replication (even PSU counts)"},
                "replicates": {"type": ["integer", "null"]}, "seed": {"type": ["integer", "null"]},
                "fay_rho": {"type": ["number", "null"], "exclusiveMinimum": 0,
                            "exclusiveMaximum": 1, "description": "fay only (default 0.5)"}}},
            "interval": {"type": "object", "properties": {
                "method": {"enum": list(INTERVAL_METHODS)}, "level": {"type": "number"},
                "proportion_method": {"enum": list(PROPORTION_METHODS)}}},
            "exclusions": {"type": "object", "properties": {
                "policy": {"enum": list(EXCLUSION_POLICIES)},
                "min_duration_seconds": NUMBER_OR_NULL}},
            "comparisons": {"oneOf": [{"const": "consecutive"}, {"type": "array", "items": {
                "type": "object", "required": ["from", "to"],
                "properties": {"from": {"type": "string"}, "to": {"type": "string"}}}}]},
            "regressions": {"type": "array", "description": "Key drivers: R's svyglm on the "
                            "design (needs variance.method taylor)", "items": {
                "type": "object", "properties": {
                    "outcome": {"type": "string", "description": "index, overall, "
                                "dimension:<id> or item:<id>"},
                    "drivers": {"oneOf": [{"const": "dimensions"}, {
                        "type": "array", "minItems": 1, "items": {"type": "string"},
                        "description": "dimension ids"}]},
                    "model": {"enum": list(REGRESSION_MODELS)},
                    "satisfied_at": {"type": ["number", "null"], "minimum": 0, "maximum": 100,
                                     "description": "required for logistic: the outcome "
                                                    "score that counts as satisfied"}}}},
            "crosstabs": {"type": "array", "description": "Rao-Scott F test (R's svychisq) of "
                          "a two-way table (needs variance.method taylor)", "items": {
                "type": "object", "required": ["rows", "columns"], "properties": {
                    key: {"type": "string", "description": "one of "
                          + ", ".join(TABLE_VARIABLES) + ", or band:<score>"}
                    for key in ("rows", "columns")}}},
        },
    },
    "Regression": {
        "type": "object",
        "required": ["wave", "outcome", "model", "satisfied_at", "n", "df", "n_clusters",
                     "intercept", "r_squared", "coefficients"],
        "properties": {
            "wave": {"type": "string"}, "outcome": {"type": "string"},
            "model": {"enum": list(REGRESSION_MODELS)}, "satisfied_at": NUMBER_OR_NULL,
            "n": {"type": "integer"}, "df": {"type": "integer", "description": "degf(design) "
                                             "+ 1 - parameters, as svyglm"},
            "n_clusters": {"type": "integer"}, "intercept": NUMBER_OR_NULL,
            "r_squared": NUMBER_OR_NULL,
            "coefficients": {"type": "array", "items": {"type": "object", "properties": {
                "driver": {"type": "string"}, **{k: NUMBER_OR_NULL for k in (
                    "coefficient", "se", "t", "p_value", "ci_low", "ci_high", "deff",
                    "standardized", "share", "performance")}}}}},
    },
    "Composite": {
        "type": "object",
        "required": ["wave", "questionnaire", "indicator_set", "year", "survey", "normalisation",
                     "weights",
                     "scale", "indicators", "districts", "left_out"],
        "properties": {
            "wave": {"type": "string"}, "questionnaire": {"type": "string"},
            "indicator_set": {"type": "string"}, "year": {"type": "integer"},
            "survey": {"enum": list(SURVEY_SCORES)},
            "normalisation": {"enum": list(NORMALISATIONS)},
            "weights": {"enum": list(WEIGHTINGS)},
            "scale": {"enum": ["0-100", "weighted standard score"]},
            "indicators": {"type": "array", "items": {
                "type": "object",
                "required": ["key", "label", "unit", "direction", "source", "weight"],
                "properties": {"key": {"type": "string", "description": "survey_index (or "
                                       "survey_<dimension>) are the wave's scores; the "
                                       "others are uploaded"},
                               "label": {"type": "string"}, "unit": {"type": "string"},
                               "direction": {"enum": ["benefit", "cost"]},
                               "source": {"type": "string"},
                               "weight": {"type": "number", "description": "Sums to 1"}}}},
            "districts": {"type": "array", "description": "Best first", "items": {
                "type": "object",
                "required": ["district", "name", "index", "rank", "best_rank", "worst_rank",
                             "contributions", "sensitivity"],
                "properties": {
                    "district": {"type": "string"}, "name": {"type": "string"},
                    "index": {"type": "number"}, "rank": {"type": "integer"},
                    "best_rank": {"type": "integer"}, "worst_rank": {"type": "integer",
                                                                     "description": "Over "
                                                                     "every weight +-20%"},
                    "contributions": {"type": "object", "description": "By indicator key; "
                                      "they add up to the index",
                                      "additionalProperties": {"type": "number"}},
                    "sensitivity": {"type": "object", "description": "Rank by indicator key "
                                    "when its weight is changed by -20% / +20%",
                                    "additionalProperties": {
                                        "type": "object",
                                        "properties": {"-20%": {"type": "integer"},
                                                       "+20%": {"type": "integer"}}}}}}},
            "left_out": {"type": "array", "items": {
                "type": "object", "required": ["district", "reason"],
                "properties": {"district": {"type": "string"}, "reason": {"type": "string"}}}},
        },
    },
    "Crosstab": {
        "type": "object",
        "required": ["wave", "rows", "columns", "statistic", "ndf", "ddf", "p_value", "pearson",
                     "mean_deff", "cells"],
        "properties": {
            "wave": {"type": "string"}, "rows": {"type": "string"}, "columns": {"type": "string"},
            "statistic": NUMBER_OR_NULL, "ndf": NUMBER_OR_NULL, "ddf": NUMBER_OR_NULL,
            "p_value": NUMBER_OR_NULL, "pearson": NUMBER_OR_NULL, "mean_deff": NUMBER_OR_NULL,
            "cells": {"type": "array", "items": {"type": "object", "properties": {
                "row": {"type": "string"}, "column": {"type": "string"},
                "proportion": NUMBER_OR_NULL}}}},
    },
    "Estimate": {
        "type": "object",
        "required": ["wave", "outcome", "domain", "level", "estimate", "se", "ci_low", "ci_high",
                     "df", "deff", "n", "n_eff"],
        "properties": {"wave": {"type": "string"}, "outcome": {"type": "string"},
                       "domain": {"type": "string"}, "level": {"type": "string"},
                       "estimate": NUMBER_OR_NULL, "se": NUMBER_OR_NULL,
                       "ci_low": NUMBER_OR_NULL, "ci_high": NUMBER_OR_NULL,
                       "df": NUMBER_OR_NULL, "deff": NUMBER_OR_NULL, "n": {"type": "integer"},
                       "n_eff": {**NUMBER_OR_NULL, "description": "effective sample size "
                                 "n / deff"},
                       "suppressed": SUPPRESSED},
    },
    "Comparison": {
        "type": "object",
        "required": ["outcome", "domain", "level", "from_wave", "to_wave", "difference", "se",
                     "ci_low", "ci_high", "p_value", "significant"],
        "properties": {"outcome": {"type": "string"}, "domain": {"type": "string"},
                       "level": {"type": "string"}, "from_wave": {"type": "string"},
                       "to_wave": {"type": "string"}, "difference": NUMBER_OR_NULL,
                       "se": NUMBER_OR_NULL, "ci_low": NUMBER_OR_NULL, "ci_high": NUMBER_OR_NULL,
                       "p_value": NUMBER_OR_NULL, "significant": {"type": ["boolean", "null"]},
                       "suppressed": SUPPRESSED},
    },
    "SmallAreaStreet": {
        "type": "object", "required": ["street", "n", "direct", "direct_suppressed", "model",
                                       "model_suppressed"],
        "properties": {
            "street": {"type": "string"}, "n": {"type": "integer"},
            "direct": {"type": ["object", "null"], "description": "The direct (design-based) "
                       "estimate; null when the disclosure policy withholds it",
                       "properties": {k: {"type": "number"}
                                      for k in ("estimate", "se", "ci_low", "ci_high")}},
            "direct_suppressed": {"type": "boolean"},
            "model": {"type": ["object", "null"], "description": "Model-based (模型估计) "
                      "figure to one decimal with its MSE-based 95% interval; basis 'eblup', "
                      "or 'synthetic' for a street with too few responses; null when withheld",
                      "properties": {**{k: {"type": "number"}
                                        for k in ("estimate", "rmse", "ci_low", "ci_high")},
                                     "basis": {"enum": ["eblup", "synthetic"]},
                                     "model_based": {"const": True}}},
            "model_suppressed": {"type": "boolean", "description": "Withheld: the street's "
                                 "direct estimate is withheld and its own responses would "
                                 "carry more than max_own_weight of the model figure"},
        },
    },
    "SmallArea": {
        "type": "object", "required": ["wave", "questionnaire", "district", "streets"],
        "properties": {
            "wave": {"type": "string"}, "questionnaire": {"type": "string"},
            "district": {"type": "string"}, "method": {"type": "string"},
            "level": {"type": "number"}, "suppress_below": {"type": "integer"},
            "min_direct_n": {"type": "integer"}, "max_own_weight": {"type": "number"},
            "streets": {"type": "array", "items": {"$ref": "#/components/schemas/SmallAreaStreet"}},
            "model": {"type": "object", "description": "Analysts and admins only: auxiliaries, "
                      "coefficients, model variance and per street the direct value, "
                      "shrinkage and synthetic part"},
        },
    },
    "Job": {
        "type": "object",
        "required": ["id", "kind", "state", "attempts", "created_at", "url"],
        "properties": {
            "id": {"type": "integer"}, "kind": {"enum": ["run", "rerun", "report", "export"]},
            "state": {"enum": ["queued", "running", "done", "failed"]},
            "attempts": {"type": "integer", "description": "starts so far (a worker lost "
                                                           "mid-job means one more)"},
            "created_at": {"type": "string", "format": "date-time"},
            "url": {"type": "string"},
            "run": {"type": "string", "description": "Once a run is done: its URL; of a "
                                                     "rerun: the URL of the run rerun"},
            "file": {"type": "string", "description": "Once an export is done: its file's URL"},
            "progress": {"type": "object", "required": ["done", "total"],
                         "description": "While running, for jobs that count their work "
                                        "(runs and reruns: tables estimated; exports: rows)",
                         "properties": {"done": {"type": "integer"},
                                        "total": {"type": "integer"}}},
            "comparison": {"$ref": "#/components/schemas/RerunComparison"},
            "error": {"type": "string", "description": "Once failed: why"},
        },
    },
    "RerunComparison": {
        "type": "object",
        "description": "Once a rerun is done (an audited run download): the rerun against the "
                       "recorded run. Texts are in the submitter's language; a bureau's result "
                       "changes are of its suppressed results.",
        "required": ["run_id", "identical", "summary", "data_changes", "result_changes",
                     "recorded", "rerun"],
        "properties": {
            "run_id": {"type": "integer"},
            "identical": {"type": "boolean",
                          "description": "Same data hash and the same results to the last digit"},
            "summary": {"type": "string"},
            "data_changes": {"type": "array", "items": {"type": "string"},
                             "description": "Responses added, excluded, deleted or edited since"},
            "result_changes": {"type": "array", "items": {"type": "string"},
                               "description": "Estimates that differ (at most 10 named)"},
            "recorded": {"$ref": "#/components/schemas/RunData"},
            "rerun": {"$ref": "#/components/schemas/RunData"},
        },
    },
    "RunData": {
        "type": "object", "required": ["data_hash", "response_count", "package_version"],
        "properties": {"data_hash": {"type": "string"}, "response_count": {"type": "integer"},
                       "package_version": {"type": "string"}},
    },
    "Run": {
        "type": "object",
        "required": ["id", "created_at", "created_by", "data_hash", "response_count",
                     "package_version", "spec", "districts"],
        "properties": {
            "id": {"type": "integer"}, "created_at": {"type": "string", "format": "date-time"},
            "created_by": {"type": "string"},
            "data_hash": {"type": "string", "description": "SHA-256 of the responses used"},
            "response_count": {"type": "integer"}, "package_version": {"type": "string"},
            "spec": {"$ref": "#/components/schemas/EstimateSpec"},
            "districts": {"type": ["array", "null"], "items": {"type": "string"}},
            "results": {"type": "object", "required": ["estimates", "comparisons", "waves"],
                        "properties": {
                            "estimates": {"type": "array",
                                          "items": {"$ref": "#/components/schemas/Estimate"}},
                            "comparisons": {"type": "array",
                                            "items": {"$ref": "#/components/schemas/Comparison"}},
                            "waves": {"type": "object",
                                      "description": "Per wave: responses, weighting notes, "
                                                     "weights (n, total, minimum, maximum, mean, "
                                                     "cv, kish_deff, n_effective, "
                                                     "share_trimmed)"},
                            "regressions": {"type": "array",
                                            "items": {"$ref": "#/components/schemas/Regression"}},
                            "crosstabs": {"type": "array",
                                          "items": {"$ref": "#/components/schemas/Crosstab"}},
                            "disclosure": {
                                "type": "object",
                                "description": "Present for bureau callers: the suppression "
                                               "threshold and how many cells were withheld"}}},
        },
    },
}


def openapi_document() -> dict:
    """The API description served at /api/v1/openapi.json."""
    run_id = {"name": "run_id", "in": "path", "required": True,
              "schema": {"type": "integer", "minimum": 0, "maximum": DATABASE_INTEGER_MAX}}
    not_found = {"404": _error_response("No such run (or not visible to the caller)")}
    document = {
        "openapi": "3.1.0",
        "info": {"title": "surveyapp analyst API", "version": "1",
                 "description": "Estimates, runs and microdata. Bureau users see only their "
                                "own districts and runs; their run results are suppressed as "
                                "their reports are (cells under SURVEYAPP_SUPPRESS_BELOW and "
                                "their complements), and microdata are refused to them (403). "
                                "Every run and microdata download is audited. Error messages "
                                "are in Chinese, or in "
                                "English when Accept-Language prefers it."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/openapi.json": {"get": {"summary": "This document", "security": [],
                                      "responses": {"200": _json({"type": "object"},
                                                                 "OpenAPI document")}}},
            "/waves": {"get": {"summary": "Waves the caller may see", "responses": {
                "200": _json({"type": "array", "items": {"$ref": "#/components/schemas/Wave"}},
                             "Waves"), **ERRORS}}},
            "/questionnaires": {"get": {"summary": "Stored questionnaire versions", "responses": {
                "200": _json({"type": "array",
                              "items": {"$ref": "#/components/schemas/Questionnaire"}},
                             "Questionnaire versions"), **ERRORS}}},
            "/questionnaires/{key}/{version}/xlsform": {"get": {
                "summary": "A stored questionnaire version as an XLSForm workbook (survey, "
                           "choices, settings and bands sheets; pyxform's format)",
                "parameters": [
                    {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "version", "in": "path", "required": True,
                     "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {"description": "The workbook", "content": {
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                            "schema": {"type": "string", "format": "binary"}}}},
                    **ERRORS, "404": _error_response("No such questionnaire version")}}},
            "/runs": {
                "get": {"summary": "Estimate runs (bureau users: their own)", "responses": {
                    "200": _json({"type": "array", "items": {"$ref": "#/components/schemas/Run"}},
                                 "Runs without results"), **ERRORS}},
                "post": {
                    "summary": "Queue an estimate spec as a job; its run is recorded when done",
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/EstimateSpec"}}}},
                    "responses": {
                        "202": ACCEPTED,
                        **ERRORS,
                        "413": _error_response("Body larger than the configured limit"),
                        "422": _error_response("Invalid spec (problems listed with their path) "
                                               "or estimation impossible on these data"),
                    }},
            },
            "/jobs/{job_id}": {"get": {
                "summary": "One of the caller's jobs: queued, running, done (with its run) or "
                           "failed (with the reason, in the client's language)",
                "parameters": [{"name": "job_id", "in": "path", "required": True,
                                "schema": {"type": "integer"}}],
                "responses": {"200": _json({"$ref": "#/components/schemas/Job"}, "The job"),
                              **ERRORS, "404": _error_response("No such job of the caller's")}}},
            "/jobs/{job_id}/file": {"get": {
                "summary": "The file of one of the caller's done export jobs",
                "parameters": [{"name": "job_id", "in": "path", "required": True,
                                "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "The file", "content": {
                                  "application/octet-stream": {"schema": {
                                      "type": "string", "format": "binary"}}}},
                              **ERRORS, "404": _error_response(
                                  "No such done export job of the caller's")}}},
            "/runs/{run_id}": {"get": {"summary": "One run with its results",
                                       "parameters": [run_id], "responses": {
                "200": _json({"$ref": "#/components/schemas/Run"}, "The run"), **ERRORS,
                **not_found}}},
            "/runs/{run_id}/rerun": {"post": {
                "summary": "Queue the rerun of a run (its own spec and districts) as a job; once "
                           "done, the job gives the comparison with the recorded run",
                "parameters": [run_id],
                "responses": {
                    "202": ACCEPTED,
                    **ERRORS, **not_found,
                    "403": _error_response("A bureau's run covering districts no longer its own"),
                    "422": _error_response("The recorded spec cannot be run today (problems "
                                           "listed) or estimation impossible on these data"),
                }}},
            "/runs/{run_id}/results": {"get": {
                "summary": "Download a run's results",
                "parameters": [run_id, {"name": "format", "in": "query",
                                        "schema": {"enum": ["json", "csv", "xlsx"],
                                                   "default": "json"}}],
                "responses": {
                    "200": {"description": "Results: JSON {estimates, comparisons}, CSV of the "
                                           "estimates, or an Excel workbook",
                            "content": {
                                "application/json": {"schema": {
                                    "type": "object", "required": ["estimates", "comparisons"],
                                    "properties": {
                                        "estimates": {"type": "array", "items": {
                                            "$ref": "#/components/schemas/Estimate"}},
                                        "comparisons": {"type": "array", "items": {
                                            "$ref": "#/components/schemas/Comparison"}}}}},
                                "text/csv": {"schema": {"type": "string"}},
                                "application/vnd.openxmlformats-officedocument."
                                "spreadsheetml.sheet": {"schema": {"type": "string",
                                                                   "format": "binary"}}}},
                    **ERRORS, **not_found}}},
            "/waves/{label}/plan": {"get": {
                "summary": "A wave's sampling plan with progress (valid responses) and "
                           "expected precision per district and street (bureau users: their "
                           "districts)",
                "parameters": [
                    {"name": "label", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "questionnaire", "in": "query", "schema": {"type": "string"},
                     "description": "Questionnaire key, when several waves share the label"},
                ],
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/Plan"}, "The plan"), **ERRORS,
                    "404": _error_response("No such wave (or none of its districts visible)"),
                }}},
            "/waves/{label}/microdata": {"get": {
                "summary": "Download a wave's microdata with scores, design variables and "
                           "final weights (analysts and admins only; submission times cut to "
                           "the local day unless time_precision says otherwise)",
                "parameters": [
                    {"name": "label", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "format", "in": "query",
                     "schema": {"enum": list(FORMATS), "default": "csv"}},
                    {"name": "questionnaire", "in": "query", "schema": {"type": "string"},
                     "description": "Questionnaire key, when several waves share the label"},
                    {"name": "lang", "in": "query",
                     "schema": {"enum": list(LANGUAGES), "default": "both"}},
                    {"name": "margins", "in": "query", "schema": {"type": "string"},
                     "description": "Rake the weights to this margin set (default: weight 1)"},
                    {"name": "include_comments", "in": "query",
                     "schema": {"enum": ["0", "1", "false", "true"], "default": "0"},
                     "description": "Include free text, made safe against spreadsheet formulas"},
                    {"name": "time_precision", "in": "query",
                     "schema": {"enum": list(TIME_PRECISIONS), "default": DEFAULT_TIME_PRECISION},
                     "description": "Submission times cut to the local day or hour; 'full' "
                                    "keeps them to the second"},
                ],
                "responses": {
                    "200": {"description": "The file", "content": {
                        "text/csv": {"schema": {"type": "string"}},
                        "application/vnd.apache.parquet": {"schema": {"type": "string",
                                                                      "format": "binary"}},
                        "application/x-spss-sav": {"schema": {"type": "string", "format": "binary"}},
                        "application/x-stata-dta": {"schema": {"type": "string",
                                                               "format": "binary"}}}},
                    "202": _json({"$ref": "#/components/schemas/Job"},
                                 "More responses than SURVEYAPP_EXPORT_JOB_ROWS: the export is a "
                                 "job; once done, its file is at /jobs/{job_id}/file"),
                    **ERRORS,
                    "403": _error_response("A bureau account: microdata and free text are for "
                                           "analysts and admins"),
                    "404": _error_response("No such wave (or none of its districts visible)"),
                    "422": _error_response("Unknown margin set or weighting impossible"),
                }}},
            "/waves/{label}/small-area": {"get": {
                "summary": "Small-area (Fay-Herriot) estimates for the streets of a district: "
                           "direct figures where publishable beside model-based ones; bureaus "
                           "get what the district report publishes, analysts also the model",
                "parameters": [
                    {"name": "label", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "district", "in": "query", "required": True,
                     "schema": {"type": "string"}, "description": "District code, e.g. 310109"},
                    {"name": "questionnaire", "in": "query", "schema": {"type": "string"},
                     "description": "Questionnaire key, when several waves share the label"},
                ],
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/SmallArea"}, "The streets"),
                    **ERRORS,
                    "404": _error_response("No such wave for this district (or the district is "
                                           "not the caller's)"),
                    "422": _error_response("Too few streets with responses for a model"),
                }}},
            "/waves/{label}/latent-index": {"get": {
                "summary": "The wave's latent satisfaction index (PLS path model, ACSI/CCSI "
                           "style): index 0-100 with its bootstrap standard error, each "
                           "dimension's importance, weight and performance with their "
                           "quadrant, and the items' weights. City-wide for analysts and "
                           "admins; a bureau names one of its districts",
                "parameters": [
                    {"name": "label", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "district", "in": "query", "schema": {"type": "string"},
                     "description": "District code (default: the whole city)"},
                    {"name": "questionnaire", "in": "query", "schema": {"type": "string"},
                     "description": "Questionnaire key, when several waves share the label"},
                    {"name": "margins", "in": "query", "schema": {"type": "string"},
                     "description": "Margin set to weight the wave with (default: its pinned "
                                    "set, else the newest that fits)"},
                ],
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/LatentIndex"},
                                 "The latent index, or available=false with the reason"),
                    **ERRORS,
                    "400": _error_response("Several waves share the label"),
                    "403": _error_response("A bureau account without one of its districts"),
                    "404": _error_response("No such wave (or it does not cover the district)"),
                    "422": _error_response("Unknown margin set or weighting impossible"),
                }}},
            "/composite": {"get": {
                "summary": "The composite quality development index of a wave: its "
                           "satisfaction index and an uploaded indicator set, normalised and "
                           "weighted as asked, ranked, with contributions and rank ranges under "
                           "+-20% weight changes (analysts and admins only)",
                "parameters": [
                    {"name": "wave", "in": "query", "required": True,
                     "schema": {"type": "string"}, "description": "Wave label, e.g. 2024"},
                    {"name": "questionnaire", "in": "query", "schema": {"type": "string"},
                     "description": "Questionnaire key, when several waves share the label"},
                    {"name": "set", "in": "query", "schema": {"type": "string"},
                     "description": "Indicator set (default: the wave's newest)"},
                    {"name": "normalisation", "in": "query",
                     "schema": {"enum": list(NORMALISATIONS), "default": "minmax"}},
                    {"name": "weights", "in": "query",
                     "schema": {"enum": list(WEIGHTINGS), "default": "entropy"}},
                    {"name": "survey", "in": "query",
                     "schema": {"enum": list(SURVEY_SCORES), "default": "index"},
                     "description": "The satisfaction index (survey_index), or each dimension "
                                    "score (survey_<dimension>) in its place"},
                    {"name": "fixed", "in": "query", "schema": {"type": "string"},
                     "description": "With weights=fixed: KEY=WEIGHT,... (default equal)"},
                ],
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/Composite"}, "The index"),
                    **ERRORS,
                    "403": _error_response("A bureau account: the index ranks every district"),
                    "404": _error_response("No such wave"),
                    "422": _error_response("No indicator set, unknown set or fixed weights, or "
                                           "an index impossible on these data"),
                }}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "surveyapp token create --user NAME"}},
            "schemas": SCHEMAS,
            "parameters": {"AcceptLanguage": ACCEPT_LANGUAGE},
            "headers": {"ContentLanguage": CONTENT_LANGUAGE_HEADER},
        },
    }
    for item in document["paths"].values():  # every operation can answer with an error
        for operation in item.values():
            operation["parameters"] = [*operation.get("parameters", []),
                                       {"$ref": "#/components/parameters/AcceptLanguage"}]
    return document
