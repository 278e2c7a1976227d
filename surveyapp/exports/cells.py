"""Make respondents' free text inert in spreadsheets (CSV/Excel formula injection)."""
from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(values: pd.Series) -> pd.Series:
    """Prefix an apostrophe to every cell a spreadsheet could read as a formula."""
    text = values.astype("string")
    risky = text.str.startswith(FORMULA_STARTS).fillna(False)
    return text.mask(risky, "'" + text)
