"""surveyapp.data.load_responses: a DataFrame ready for SurveyDesign, in or out of an app context."""
import threading

import pytest
from flask import has_app_context

from analysis.design import SurveyDesign
from surveyapp.data import load_responses
from surveyapp.services.estimation import run_spec
from surveyapp.specs import SpecError, spec_from_dict
from tests.web.analyst_fixtures import MARGINS, POPULATION


def test_columns_weights_and_design_match_the_estimate_service(world):
    df = load_responses(wave="2024", margins=MARGINS)
    for column in ("response_id", "district", "street", "sex", "age_group", "index", "overall",
                   "dim_product", "item_p_food", "p_food", "weight", "submitted_at"):
        assert column in df.columns, column
    assert list(df["response_id"]) == sorted(df["response_id"])
    assert df["weight"].sum() == pytest.approx(POPULATION * df["district"].nunique())
    assert df.attrs["design"] == {"weights": "weight", "strata": "district", "psu": None,
                                  "fpc": None, "lonely_psu": "adjust"}  # the wave's declared
    assert df.attrs["design_note"]["source"] == "wave"
    assert df.attrs["weighting"]["converged"] is True
    mean = SurveyDesign(df, **df.attrs["design"]).mean("index")
    service = run_spec(spec_from_dict({"waves": ["2024"], "weighting": {
        "method": "rake", "margins": MARGINS}})).table.iloc[0]
    assert mean.estimate == pytest.approx(service.estimate, rel=1e-12)
    assert mean.se > service.se * 0.5  # fixed weights ignore the raking, but stay comparable


def test_options_scope_trim_and_errors(world, english):
    hongkou = load_responses(2024, districts=["310109"])
    assert set(hongkou["district"]) == {"310109"} and (hongkou["weight"] == 1).all()
    trimmed = load_responses("2024", margins=MARGINS, trim=(None, 1.5))
    assert trimmed["weight"].max() < load_responses("2024", margins=MARGINS)["weight"].max()
    with pytest.raises(SpecError, match="unknown wave '1999'"):
        load_responses("1999")
    with pytest.raises(SpecError, match="exclusions.policy: expected one of recorded, none"):
        load_responses("2024", exclusions="some")


def test_works_outside_an_app_context(world, app, monkeypatch):
    monkeypatch.setenv("SURVEYAPP_DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    monkeypatch.setenv("SURVEYAPP_INSTANCE_PATH", app.instance_path)
    found = {}

    def outside():  # a new thread has no application context
        found["context"] = has_app_context()
        found["frame"] = load_responses("2023")

    thread = threading.Thread(target=outside)
    thread.start()
    thread.join()
    assert found["context"] is False and len(found["frame"]) == 40
