"""The OpenAPI 3.1 document of /api/v1; tests check it against the routes and real responses."""
from __future__ import annotations

from surveyapp.converters import DATABASE_INTEGER_MAX
from surveyapp.exports import FORMATS
from surveyapp.exports.codebook import LANGUAGES
from surveyapp.i18n import CONTENT_LANGUAGE
from surveyapp.services.disclosure import DEFAULT_TIME_PRECISION, TIME_PRECISIONS
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

SCHEMAS = {
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
        "type": "object", "required": ["key", "version", "content_hash", "title"],
        "properties": {"key": {"type": "string"}, "version": {"type": "string"},
                       "content_hash": {"type": "string"},
                       "title": {"type": "object", "properties": {
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
    "Job": {
        "type": "object",
        "required": ["id", "kind", "state", "attempts", "created_at", "url"],
        "properties": {
            "id": {"type": "integer"}, "kind": {"enum": ["run", "report"]},
            "state": {"enum": ["queued", "running", "done", "failed"]},
            "attempts": {"type": "integer", "description": "starts so far (a worker lost "
                                                           "mid-job means one more)"},
            "created_at": {"type": "string", "format": "date-time"},
            "url": {"type": "string"},
            "run": {"type": "string", "description": "Once done: the run's URL"},
            "error": {"type": "string", "description": "Once failed: why"},
        },
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
                        "202": {**_json({"$ref": "#/components/schemas/Job"},
                                        "Accepted: poll the job's url (also in Location)"),
                                "headers": {"Location": {"schema": {"type": "string"}}}},
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
            "/runs/{run_id}": {"get": {"summary": "One run with its results",
                                       "parameters": [run_id], "responses": {
                "200": _json({"$ref": "#/components/schemas/Run"}, "The run"), **ERRORS,
                **not_found}}},
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
                    **ERRORS,
                    "403": _error_response("A bureau account: microdata and free text are for "
                                           "analysts and admins"),
                    "404": _error_response("No such wave (or none of its districts visible)"),
                    "422": _error_response("Unknown margin set or weighting impossible"),
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
