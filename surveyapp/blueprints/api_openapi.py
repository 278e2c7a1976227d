"""The OpenAPI 3.1 document of /api/v1; tests check it against the routes and real responses."""
from __future__ import annotations

from surveyapp.converters import DATABASE_INTEGER_MAX
from surveyapp.exports import FORMATS
from surveyapp.exports.codebook import LANGUAGES
from surveyapp.i18n import CONTENT_LANGUAGE
from surveyapp.specs import (
    EXCLUSION_POLICIES,
    INTERVAL_METHODS,
    LONELY_PSU,
    PROPORTION_METHODS,
    VARIANCE_METHODS,
    WEIGHTING_METHODS,
)

NUMBER_OR_NULL = {"type": ["number", "null"]}
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
                {"type": "object", "properties": {"dimension": {"type": "string"}}},
                {"type": "object", "properties": {"item": {"type": "string"}}},
                {"type": "object", "required": ["proportion"], "properties": {
                    "proportion": {"type": "string"}, "at_least": {"type": "number"},
                    "band": {"type": "string"}, "name": {"type": "string"}}},
            ]}},
            "domains": {"type": "array", "items": {"type": "string"}},
            "design": {"type": "object", "properties": {
                "strata": TEXT_OR_NULL, "psu": TEXT_OR_NULL,
                "lonely_psu": {"enum": list(LONELY_PSU)}}},
            "weighting": {"type": "object", "properties": {
                "method": {"enum": list(WEIGHTING_METHODS)}, "margins": TEXT_OR_NULL,
                "variables": {"type": "array", "items": {"type": "string"}},
                "trim": {"type": ["object", "null"], "description": "multiples of the mean "
                         "weight", "properties": {"lower": NUMBER_OR_NULL,
                                                  "upper": NUMBER_OR_NULL}},
                "epsilon": {"type": "number"}, "max_iter": {"type": "integer"}}},
            "variance": {"type": "object", "properties": {
                "method": {"enum": list(VARIANCE_METHODS)},
                "replicates": {"type": ["integer", "null"]}, "seed": {"type": ["integer", "null"]}}},
            "interval": {"type": "object", "properties": {
                "method": {"enum": list(INTERVAL_METHODS)}, "level": {"type": "number"},
                "proportion_method": {"enum": list(PROPORTION_METHODS)}}},
            "exclusions": {"type": "object", "properties": {
                "policy": {"enum": list(EXCLUSION_POLICIES)},
                "min_duration_seconds": NUMBER_OR_NULL}},
            "comparisons": {"oneOf": [{"const": "consecutive"}, {"type": "array", "items": {
                "type": "object", "required": ["from", "to"],
                "properties": {"from": {"type": "string"}, "to": {"type": "string"}}}}]},
        },
    },
    "Estimate": {
        "type": "object",
        "required": ["wave", "outcome", "domain", "level", "estimate", "se", "ci_low", "ci_high",
                     "df", "deff", "n"],
        "properties": {"wave": {"type": "string"}, "outcome": {"type": "string"},
                       "domain": {"type": "string"}, "level": {"type": "string"},
                       "estimate": NUMBER_OR_NULL, "se": NUMBER_OR_NULL,
                       "ci_low": NUMBER_OR_NULL, "ci_high": NUMBER_OR_NULL,
                       "df": NUMBER_OR_NULL, "deff": NUMBER_OR_NULL, "n": {"type": "integer"}},
    },
    "Comparison": {
        "type": "object",
        "required": ["outcome", "domain", "level", "from_wave", "to_wave", "difference", "se",
                     "ci_low", "ci_high", "p_value", "significant"],
        "properties": {"outcome": {"type": "string"}, "domain": {"type": "string"},
                       "level": {"type": "string"}, "from_wave": {"type": "string"},
                       "to_wave": {"type": "string"}, "difference": NUMBER_OR_NULL,
                       "se": NUMBER_OR_NULL, "ci_low": NUMBER_OR_NULL, "ci_high": NUMBER_OR_NULL,
                       "p_value": NUMBER_OR_NULL, "significant": {"type": "boolean"}},
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
                                      "description": "Per wave: responses, weighting notes"}}},
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
                                "own districts and runs. Error messages are in Chinese, or in "
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
            "/runs": {
                "get": {"summary": "Estimate runs (bureau users: their own)", "responses": {
                    "200": _json({"type": "array", "items": {"$ref": "#/components/schemas/Run"}},
                                 "Runs without results"), **ERRORS}},
                "post": {
                    "summary": "Run an estimate spec and record it",
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/EstimateSpec"}}}},
                    "responses": {
                        "201": _json({"$ref": "#/components/schemas/Run"}, "The recorded run "
                                     "with its results"),
                        **ERRORS,
                        "413": _error_response("Body larger than the configured limit"),
                        "422": _error_response("Invalid spec (problems listed with their path) "
                                               "or estimation impossible on these data"),
                    }},
            },
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
                           "final weights (bureau users: their districts only)",
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
