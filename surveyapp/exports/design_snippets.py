"""The Stata and SPSS snippets written beside .dta and .sav exports: the wave's declared design.

Beside ``w.dta`` a ``w.dta.do`` (``svyset``), beside ``w.sav`` a ``w.sav.sps`` (``CSPLAN``), as
the R snippet rebuilds it with ``svydesign``. Stage 2 of "street_psu" has no fpc (residents
sampled with replacement): Stata and SPSS both take a stage without one as with replacement.
"""
from __future__ import annotations

from pathlib import Path

from surveyapp.exports.codebook import Codebook
from surveyapp.exports.dta_writer import stata_names
from surveyapp.exports.sav_writer import spss_names
from surveyapp.exports.snippet_syntax import spss_comment, spss_string, stata_comment, stata_string

# R's survey.lonely.psu -> Stata's singleunit(): fail leaves the SE missing, remove and
# certainty count the stratum as 0, adjust centres at the grand mean, average scales.
STATA_SINGLEUNIT = {"fail": "missing", "remove": "certainty", "certainty": "certainty",
                    "adjust": "centered", "average": "scaled"}


def stata_snippet(codebook: Codebook, file_name: str) -> str:
    """A .do file: ``use`` the export and ``svyset`` its declared design."""
    names = stata_names(codebook.names)
    stages = [s for s in codebook.psu_stages if s in names]
    fpc = codebook.fpc[0] if codebook.fpc and codebook.fpc[0] in names else None
    weight = f" [pweight={names[codebook.weights]}]" if codebook.weights else ""
    single = f"singleunit({STATA_SINGLEUNIT[codebook.lonely_psu]})"
    first = [f"strata({names[codebook.strata]})"] if codebook.strata else []
    if fpc:
        first.append(f"fpc({names[fpc]})")
    command = f"svyset {names[stages[0]] if stages else '_n'}{weight}, {' '.join(first)}".rstrip()
    if fpc and len(stages) == 2:  # Stata ignores later stages without a first-stage fpc
        command += f" || {names[stages[1]]}, {single}"
    else:
        command += f" {single}"
    lines = [stata_comment(codebook.title),
             "* Written by `surveyapp export`: the wave's declared sample design (Stata 14+).",
             f"use {stata_string(file_name)}, clear", command.replace(",  ", ", ")]
    if "index" in names:
        lines.append(f"svy: mean {names['index']}")
        if codebook.domain in names:
            lines.append(f"svy: mean {names['index']}, over({names[codebook.domain]})")
    if codebook.street_strata and "street" in names:
        lines += ["* Estimates by street: responses as units within district/street strata.",
                  f"svyset _n{weight}, strata({names[codebook.street_strata]}) {single}"]
        if "index" in names:
            lines.append(f"svy: mean {names['index']}, over({names['street']})")
    return "\n".join(lines) + "\n"


def spss_snippet(codebook: Codebook, file_name: str) -> str:
    """An .sps file: open the export and write a Complex Samples plan of its declared design."""
    names = spss_names(codebook.names)
    stages = [s for s in codebook.psu_stages if s in names]
    plan = Path(file_name).stem + ".csaplan"
    lines = [spss_comment(codebook.title),
             "* Written by `surveyapp export`: the wave's declared sample design (SPSS Complex",
             "* Samples). SPSS has no lonely-PSU option: a stratum with a single unit is left",
             f"* as SPSS treats it (the wave's rule is {codebook.lonely_psu}).",
             f"GET FILE={spss_string(file_name)}.",
             f"CSPLAN ANALYSIS /PLAN FILE={spss_string(plan)}"]
    if codebook.weights:
        lines.append(f"  /PLANVARS ANALYSISWEIGHT={names[codebook.weights]}")
    first = [f"STRATA={names[codebook.strata]}"] if codebook.strata else []
    if stages:
        first.append(f"CLUSTER={names[stages[0]]}")
    lines.append("  /DESIGN " + " ".join(first) if first else "  /DESIGN")
    fpc = codebook.fpc[0] if codebook.fpc and codebook.fpc[0] in names else None
    if fpc:
        lines += ["  /ESTIMATOR TYPE=EQUAL_WOR", f"  /POPSIZE VARIABLE={names[fpc]}"]
        if len(stages) == 2:
            lines += [f"  /DESIGN CLUSTER={names[stages[1]]}", "  /ESTIMATOR TYPE=WR"]
    else:
        lines.append("  /ESTIMATOR TYPE=WR")
    lines[-1] += "."
    if "index" in names:
        lines += [f"CSDESCRIPTIVES /PLAN FILE={spss_string(plan)} /SUMMARY VARIABLES={names['index']}"
                  + (f" /SUBPOP TABLE={names[codebook.domain]}" if codebook.domain in names
                     else "")
                  + " /MEAN."]
    return "\n".join(lines) + "\n"


SNIPPETS = {"dta": (".do", stata_snippet), "sav": (".sps", spss_snippet)}


def write_design_snippet(codebook: Codebook, export_path: Path, fmt: str) -> Path | None:
    """Write the format's own snippet beside the export (None for csv and parquet)."""
    if fmt not in SNIPPETS:
        return None
    suffix, build = SNIPPETS[fmt]
    path = export_path.with_name(export_path.name + suffix)
    path.write_text(build(codebook, export_path.name), encoding="utf-8")
    return path
