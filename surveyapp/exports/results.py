"""Estimate results as files: CSV, JSON or an Excel workbook (chosen by the file's suffix)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from surveyapp.exports import RESULT_SUFFIXES
from surveyapp.exports.cells import neutralise_formulas


def results_tables(results: dict) -> dict[str, pd.DataFrame]:
    """The estimates and comparisons of a run's results as DataFrames, then the weight
    diagnostics, regressions (one row per coefficient) and crosstabs when the run has them;
    results disclosed to a bureau (surveyapp.services.disclosure) add a ``suppressed`` column."""
    from surveyapp.services.estimation import COMPARISON_COLUMNS, RESULT_COLUMNS

    flag = ["suppressed"] if "disclosure" in results else []
    tables = {
        "estimates": pd.DataFrame(results["estimates"], columns=[*RESULT_COLUMNS, *flag]),
        "comparisons": pd.DataFrame(results["comparisons"],
                                    columns=[*COMPARISON_COLUMNS, *flag]),
    }
    for table in tables.values():
        if flag:
            table["suppressed"] = table["suppressed"].eq(True)
    extra = {
        "weights": [{"wave": wave, **note["weights"]}
                    for wave, note in results.get("waves", {}).items() if "weights" in note],
        "regressions": [{**{k: v for k, v in fit.items() if k != "coefficients"}, **row}
                        for fit in results.get("regressions", []) for row in fit["coefficients"]],
        "crosstabs": [{k: v for k, v in test.items() if k != "cells"}
                      for test in results.get("crosstabs", [])],
    }
    tables.update({name: pd.DataFrame(rows) for name, rows in extra.items() if rows})
    return tables


def write_results(results: dict, path: str | Path, run_info: dict) -> list[Path]:
    """Write ``results`` to ``path``; CSV puts comparisons in a second file beside it."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in RESULT_SUFFIXES:
        raise ValueError(f"--output: expected a file ending in {', '.join(RESULT_SUFFIXES)}; "
                         f"got {path.name!r}")
    tables = {name: _safe(table) for name, table in results_tables(results).items()}
    if suffix == ".json":
        path.write_text(json.dumps({"run": run_info, **results}, ensure_ascii=False, indent=1),
                        encoding="utf-8")
        return [path]
    if suffix == ".xlsx":
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            for name, table in tables.items():
                table.to_excel(writer, sheet_name=name, index=False)
            pd.DataFrame(sorted(run_info.items()), columns=["key", "value"]).astype(str).pipe(
                _safe).to_excel(writer, sheet_name="run", index=False)
        return [path]
    tables["estimates"].to_csv(path, index=False, encoding="utf-8-sig")
    written = [path]
    if not tables["comparisons"].empty:
        other = path.with_name(f"{path.stem}_comparisons.csv")
        tables["comparisons"].to_csv(other, index=False, encoding="utf-8-sig")
        written.append(other)
    return written


def _safe(table: pd.DataFrame) -> pd.DataFrame:
    """Text cells can never act as spreadsheet formulas."""
    table = table.copy()
    for column in table.columns:
        if table[column].dtype == object or pd.api.types.is_string_dtype(table[column]):
            table[column] = neutralise_formulas(table[column])
    return table


def format_table(results: dict) -> str:
    """A readable plain-text table of the estimates (and comparisons, if any)."""
    tables = results_tables(results)
    estimates = tables["estimates"]
    if estimates.empty:
        return "(no estimates)"
    shown = estimates.assign(
        interval=[_interval(lo, hi) for lo, hi in zip(estimates["ci_low"], estimates["ci_high"])],
        n=estimates["n"].astype("Int64"),
    )[["wave", "outcome", "domain", "level", "estimate", "se", "interval", "deff", "n"]]
    text = shown.to_string(index=False, float_format=lambda v: f"{v:.3f}")
    comparisons = tables["comparisons"]
    if not comparisons.empty:
        shown = comparisons[["outcome", "domain", "level", "from_wave", "to_wave", "difference",
                             "se", "p_value", "significant"]]
        text += "\n\nchanges between waves:\n" + shown.to_string(
            index=False, float_format=lambda v: f"{v:.4f}")
    return text


def _interval(low, high) -> str:
    if pd.isna(low) or pd.isna(high):
        return "-"
    return f"[{low:.3f}, {high:.3f}]"
