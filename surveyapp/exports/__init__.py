"""Microdata exports of a wave: CSV, Parquet, SPSS .sav and Stata .dta, with labels and an R snippet.

The writers take a DataFrame (one row per response, as ``surveyapp.data.load_responses`` gives)
and a :class:`~surveyapp.exports.codebook.Codebook` that says which columns to write, their
variable labels and value labels, and the design (weights, strata, PSU) the R snippet rebuilds.
Every format is written in chunks of rows, so the converted copy never exceeds one chunk.
"""

FORMATS = ("csv", "parquet", "sav", "dta")
RESULT_SUFFIXES = (".csv", ".json", ".xlsx")
