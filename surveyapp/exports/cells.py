"""Make text cells of microdata inert in spreadsheets (CSV/Excel formula injection).

The rule, which first characters make a spreadsheet run a cell, lives in
surveyapp.reports.safety; this is its vectorised form for whole columns.
"""
from __future__ import annotations

import pandas as pd

from surveyapp.reports.safety import FORMULA_TRIGGERS


def neutralise_formulas(values: pd.Series) -> pd.Series:
    """Prefix an apostrophe to every cell a spreadsheet could read as a formula."""
    text = values.astype("string")
    risky = text.str.startswith(FORMULA_TRIGGERS).fillna(False)
    return text.mask(risky, "'" + text)
