"""The R snippet written beside an export: load the file, build the same survey::svydesign."""
from __future__ import annotations

from pathlib import Path

from surveyapp.exports.codebook import Codebook
from surveyapp.exports.dta_writer import stata_names
from surveyapp.exports.sav_writer import spss_names
from surveyapp.exports.snippet_syntax import r_comment, r_name, r_string

# {file} is an R string literal (r_string), {classes} R code built from r_name and r_string.
READERS = {
    "csv": 'read.csv({file}, fileEncoding = "UTF-8-BOM", na.strings = "",\n'
           '              colClasses = c({classes}))',
    "parquet": 'as.data.frame(arrow::read_parquet({file}))',
    "sav": 'as.data.frame(haven::read_sav({file}))',
    "dta": 'as.data.frame(haven::read_dta({file}))',
}
PACKAGES = {"csv": "survey", "parquet": "survey, arrow", "sav": "survey, haven",
            "dta": "survey, haven"}


def r_snippet_path(export_path: Path) -> Path:
    """``wave2024.sav`` -> ``wave2024.sav.R``: one snippet per exported file."""
    return export_path.with_name(export_path.name + ".R")


def r_snippet(codebook: Codebook, file_name: str, fmt: str) -> str:
    """R code that loads ``file_name`` (run it from the folder holding the file).

    Every text from outside (title, file name, column names) is escaped for R (snippet_syntax).
    """
    renamed = {"dta": stata_names, "sav": spss_names}
    exported = renamed[fmt](codebook.names) if fmt in renamed else {n: n for n in codebook.names}
    names = {name: r_name(value) for name, value in exported.items()}
    text_columns = [exported[v.name] for v in codebook.variables
                    if v.kind in ("text", "category")]
    classes = ", ".join(f'{r_string(name)} = "character"' for name in text_columns)
    reader = READERS[fmt].format(file=r_string(file_name), classes=classes)
    stages = codebook.psu_stages
    ids = "~" + " + ".join(names[p] for p in stages) if stages else "~1"
    design = [f"ids = {ids}"]
    if codebook.strata:
        design.append(f"strata = ~{names[codebook.strata]}")
    unknown_fpc = [f for f in codebook.fpc if f not in names]  # infinite: not exported as data
    if codebook.fpc:
        design.append("fpc = ~" + " + ".join(names.get(f, f) for f in codebook.fpc))
    if codebook.weights:
        design.append(f"weights = ~{names[codebook.weights]}")
    design += ["data = d", "nest = TRUE"]
    domain = names.get(codebook.domain) if codebook.domain else None
    lines = [
        r_comment(codebook.title),
        f"# Written by `surveyapp export`. Needs the R packages: {PACKAGES[fmt]}.",
        "# The wave's declared sample design, as `surveyapp estimate` uses it by default.",
        "# The weights are the final weights (after any raking and trimming). Standard errors",
        "# from this design treat them as fixed; `surveyapp estimate` also accounts for raking.",
        "library(survey)",
        f"d <- {reader}",
        *(f"d${f} <- Inf  # residents of a street: population unknown, sampled with replacement"
          for f in unknown_fpc),
        f'options(survey.lonely.psu = "{codebook.lonely_psu}")',
        f"des <- svydesign({', '.join(design)})",
    ]
    if codebook.street_strata:
        lines += ["# Estimates by street: responses as units within district/street strata (the",
                  "# street is never the PSU of a street's own estimate).",
                  f"street_des <- svydesign(ids = ~1, strata = ~{names[codebook.street_strata]}, "
                  + (f"weights = ~{names[codebook.weights]}, " if codebook.weights else "")
                  + "data = d)"]
    if "index" not in names:
        return "\n".join(lines) + "\n"
    lines.append(f"svymean(~{names['index']}, des, na.rm = TRUE)")
    if domain:
        lines.append(f"svyby(~{names['index']}, ~{domain}, des, svymean, na.rm = TRUE)")
    if codebook.street_strata and "street" in names:
        lines.append(f"svyby(~{names['index']}, ~{names['street']}, street_des, svymean, "
                     "na.rm = TRUE)")
    return "\n".join(lines) + "\n"


def write_r_snippet(codebook: Codebook, export_path: Path, fmt: str) -> Path:
    path = r_snippet_path(export_path)
    path.write_text(r_snippet(codebook, export_path.name, fmt), encoding="utf-8")
    return path
