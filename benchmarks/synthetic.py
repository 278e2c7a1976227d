"""A synthetic city-wide satisfaction survey of any size, for benchmarks.

Shanghai's 16 districts are the strata and about 200 streets the PSUs; respondents have sex and
age group, answer 3 dimensions x 4 items plus an overall item on 1..10 (code 99 = don't know),
and score around 75-95. The sample over-represents women and middle-aged residents, so raking to
the population margins (``district x sex`` and ``district x age_group``) has work to do.

    from synthetic import synthetic_survey      # run scripts from benchmarks/
    survey = synthetic_survey(100_000, seed=1)
    survey.data, survey.spec, survey.margins
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.scoring import DimensionRule, ItemRule, ScoringSpec

#: GB/T 2260 code -> resident population in thousands (7th census, 2020, rounded).
DISTRICTS = {
    "310101": 662, "310104": 1113, "310105": 693, "310106": 976, "310107": 1240, "310109": 758,
    "310110": 1243, "310112": 2654, "310113": 2235, "310114": 1834, "310115": 5681, "310116": 823,
    "310117": 1910, "310118": 1271, "310120": 1141, "310151": 638,
}
SEXES = ("F", "M")
AGE_GROUPS = ("18-29", "30-39", "40-49", "50-59", "60+")
POPULATION_SEX = np.array([0.49, 0.51])
POPULATION_AGE = np.array([0.18, 0.21, 0.19, 0.17, 0.25])
SAMPLE_SEX = np.array([0.58, 0.42])
SAMPLE_AGE = np.array([0.12, 0.26, 0.27, 0.20, 0.15])
DIMENSIONS = ("product", "service", "housing")
ITEMS_PER_DIMENSION = 4
DONT_KNOW = 99


@dataclass(frozen=True)
class SyntheticSurvey:
    """``data``: design columns (district, street, sex, age_group as categoricals; pw = design
    weight) and raw answers; ``spec``: how to score them; ``margins``: raking targets keyed by
    ``("district", "sex")`` and ``("district", "age_group")`` in persons."""

    data: pd.DataFrame
    spec: ScoringSpec
    margins: dict[tuple[str, str], dict[tuple[str, str], float]]


def scoring_spec() -> ScoringSpec:
    """3 equally weighted dimensions of 4 items each and an overall item, all on 1..10."""
    items = tuple(ItemRule(f"{dim}_{k}", 1, 10, dimension=dim, missing_values=(DONT_KNOW,))
                  for dim in DIMENSIONS for k in range(1, ITEMS_PER_DIMENSION + 1))
    overall = ItemRule("overall", 1, 10, missing_values=(DONT_KNOW,))
    return ScoringSpec(items + (overall,), tuple(DimensionRule(d, min_answered=2) for d in DIMENSIONS),
                       overall_item="overall")


def population_margins() -> dict[tuple[str, str], dict[tuple[str, str], float]]:
    """Joint district x sex and district x age-group population counts; both sum to the city."""
    by_sex, by_age = {}, {}
    for code, thousands in DISTRICTS.items():
        people = thousands * 1000.0
        by_sex |= {(code, s): people * share for s, share in zip(SEXES, POPULATION_SEX)}
        by_age |= {(code, a): people * share for a, share in zip(AGE_GROUPS, POPULATION_AGE)}
    return {("district", "sex"): by_sex, ("district", "age_group"): by_age}


def _streets(n_streets: int) -> tuple[np.ndarray, np.ndarray]:
    """Street codes and their district index: streets shared out by population, at least 2 each."""
    population = np.array(list(DISTRICTS.values()), dtype=float)
    counts = np.maximum(2, np.round(n_streets * population / population.sum())).astype(int)
    district_of = np.repeat(np.arange(len(DISTRICTS)), counts)
    codes = np.array([f"{list(DISTRICTS)[d]}{k:03d}" for d, c in enumerate(counts) for k in range(c)])
    return codes, district_of


def _answers(latent: np.ndarray, rng: np.random.Generator, dont_know: float, missing: float) -> np.ndarray:
    """1..10 answers around a 0-100 latent score, with don't-know codes and blanks sprinkled in."""
    raw = np.clip(np.rint(1 + 9 * (latent + rng.normal(0, 9, latent.shape)) / 100), 1, 10)
    raw[rng.random(latent.shape) < dont_know] = DONT_KNOW
    raw[rng.random(latent.shape) < missing] = np.nan
    return raw


def synthetic_survey(n: int, seed: int = 0, n_streets: int = 200) -> SyntheticSurvey:
    """Draw ``n`` respondents; the same ``n`` and ``seed`` give the same survey."""
    rng = np.random.default_rng(seed)
    street_codes, street_district = _streets(n_streets)
    district_codes = list(DISTRICTS)
    street = rng.integers(0, len(street_codes), n)
    district = street_district[street]
    sex = rng.choice(len(SEXES), n, p=SAMPLE_SEX)
    age = rng.choice(len(AGE_GROUPS), n, p=SAMPLE_AGE)
    sampled = np.bincount(district, minlength=len(district_codes))
    population = np.array(list(DISTRICTS.values())) * 1000.0
    pw = (population / np.maximum(sampled, 1))[district]
    mood = 84 + rng.normal(0, 3, len(street_codes))[street] + 1.5 * (age == 4) + rng.normal(0, 6, n)
    columns: dict[str, object] = {
        "district": pd.Categorical.from_codes(district, district_codes),
        "street": pd.Categorical.from_codes(street, list(street_codes)),
        "sex": pd.Categorical.from_codes(sex, list(SEXES)),
        "age_group": pd.Categorical.from_codes(age, list(AGE_GROUPS)),
        "pw": pw,
    }
    for shift, dim in zip((1.0, -2.0, 0.5), DIMENSIONS):
        level = mood + shift + rng.normal(0, 4, n)
        raw = _answers(np.repeat(level[:, None], ITEMS_PER_DIMENSION, axis=1), rng, 0.03, 0.02)
        columns |= {f"{dim}_{k + 1}": raw[:, k] for k in range(ITEMS_PER_DIMENSION)}
    columns["overall"] = _answers(mood[:, None], rng, 0.01, 0.0)[:, 0]
    return SyntheticSurvey(pd.DataFrame(columns), scoring_spec(), population_margins())
