"""Population margins: every problem of a bad CSV is listed with its line; good ones feed raking."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from surveyapp.config import PROJECT_ROOT
from surveyapp.extensions import db
from surveyapp.models.margins import MarginRow, MarginSet
from surveyapp.questionnaires import load_geography, load_questionnaire
from surveyapp.services.catalog import sync_geography
from surveyapp.services.margins import (
    MarginInput,
    demographic_categories,
    import_margins_csv,
    rake_margins,
    store_margins,
)

QUESTIONNAIRES = PROJECT_ROOT / "questionnaires"
HONGKOU, PUDONG = "310109", "310115"


@pytest.fixture
def citizen(app):
    """The shipped citizen questionnaire, with the shipped geography in the database."""
    sync_geography(load_geography(QUESTIONNAIRES / "geography" / "shanghai.yaml"))
    return load_questionnaire(QUESTIONNAIRES / "citizen.yaml")


@pytest.fixture
def categories(citizen) -> dict[str, tuple[str, ...]]:
    return demographic_categories(citizen)


def good_csv(categories, total: int = 1200) -> str:
    """Both districts, every sex and age category, each variable adding up to ``total``."""
    lines = ["district,variable,category,count"]
    for district in (HONGKOU, PUDONG):
        for variable in ("sex", "age_group"):
            values = categories[variable]
            share, rest = divmod(total, len(values))
            for index, value in enumerate(values):
                lines.append(f"{district},{variable},{value},{share + (rest if index == 0 else 0)}")
    return "\n".join(lines) + "\n"


def stored_sets() -> int:
    return db.session.scalar(sa.select(sa.func.count(MarginSet.id)))


def test_a_good_csv_is_stored_and_given_to_raking_by_district_and_variable(citizen, categories):
    margin_set, problems = import_margins_csv("census-2020", "test", good_csv(categories), citizen)

    assert problems == []
    margins = rake_margins(margin_set)
    assert set(margins) == {("district", "sex"), ("district", "age_group")}
    first_sex = categories["sex"][0]
    assert margins[("district", "sex")][(HONGKOU, first_sex)] == 1200 - 1200 // len(
        categories["sex"]) * (len(categories["sex"]) - 1)
    for margin in margins.values():
        assert sum(n for (district, _), n in margin.items() if district == PUDONG) == 1200
    assert db.session.scalar(sa.select(sa.func.count(MarginRow.id))) == 2 * sum(
        len(categories[v]) for v in ("sex", "age_group"))


def test_every_problem_of_a_bad_csv_is_listed_with_its_line_and_nothing_is_stored(
    citizen, categories
):
    sex, age = categories["sex"], categories["age_group"]
    lines = good_csv(categories).splitlines()
    lines += [
        f"999999,sex,{sex[0]},10",          # line n+1: unknown district
        f"{HONGKOU},income,high,10",        # unknown variable
        f"{HONGKOU},sex,martian,10",        # unknown category
        f"{PUDONG},age_group,{age[0]},-5",  # negative count (and a duplicate of line 2+)
        f"{HONGKOU},sex,{sex[0]},12.5",     # not an integer (and a duplicate)
        f"{HONGKOU},sex",                   # too few cells
        f"{PUDONG},sex,{sex[1]},99999999999999999999",  # more people than exist
    ]
    first_bad = len(good_csv(categories).splitlines()) + 1

    margin_set, problems = import_margins_csv("bad", "", "\n".join(lines), citizen)

    assert margin_set is None
    found = {(p.line, p.field) for p in problems}
    assert {
        (first_bad, "district"),
        (first_bad + 1, "variable"),
        (first_bad + 2, "category"),
        (first_bad + 3, "count"),
        (first_bad + 3, "category"),  # duplicate of an earlier row
        (first_bad + 4, "count"),
        (first_bad + 5, None),
        (first_bad + 6, "count"),
    } <= found
    assert all(str(p.line) in str(p) for p in problems if p.line is not None)
    assert stored_sets() == 0


def test_totals_that_differ_between_variables_and_missing_categories_are_reported(
    citizen, categories
):
    sex, age = categories["sex"], categories["age_group"]
    rows = [MarginInput(HONGKOU, "sex", value, 100) for value in sex]
    rows += [MarginInput(HONGKOU, "age_group", value, 100) for value in age[1:]]

    margin_set, problems = store_margins("uneven", "", rows, citizen)

    assert margin_set is None
    messages = " | ".join(map(str, problems))
    assert age[0] in messages  # the missing age category is named
    assert f"sex {100 * len(sex)}" in messages and f"age_group {100 * (len(age) - 1)}" in messages
    assert stored_sets() == 0


def test_a_csv_without_the_expected_header_is_refused_on_line_1(citizen):
    margin_set, problems = import_margins_csv("x", "", "district;sex;count\n310109;F;3\n", citizen)

    assert margin_set is None
    assert problems[0].line == 1 and "district,variable,category,count" in str(problems[0])


def test_names_are_unique(citizen, categories):
    assert import_margins_csv("census", "", good_csv(categories), citizen)[1] == []

    margin_set, problems = import_margins_csv("census", "", good_csv(categories), citizen)

    assert margin_set is None
    assert [p.field for p in problems] == ["name"]
    assert stored_sets() == 1
