"""Microdata exports of a wave: CSV, Parquet, SPSS .sav and Stata .dta, with labels and an R snippet.

The writers take a DataFrame (one row per response, as ``surveyapp.data.load_responses`` gives)
and a :class:`~surveyapp.exports.codebook.Codebook` that says which columns to write, their
variable labels and value labels, and the design (weights, strata, PSU) the R snippet rebuilds.
CSV and Parquet are written in chunks of rows, so the converted copy never exceeds one chunk;
SPSS and Stata files are written whole (ReadStat cannot append).
"""

FORMATS = ("csv", "parquet", "sav", "dta")
RESULT_SUFFIXES = (".csv", ".json", ".xlsx")
