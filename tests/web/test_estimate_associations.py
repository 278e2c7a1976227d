"""Regressions, crosstabs and weight diagnostics in estimate runs (surveyapp.services.associations)."""
import numpy as np
import pytest

from analysis.chisq import svychisq
from analysis.drivers import key_drivers
from surveyapp.exports.results import results_tables
from surveyapp.services.estimation import (find_waves, load_wave, run_spec, wave_design,
                                           weighted_design)
from surveyapp.specs import SpecError, spec_from_dict
from tests.web.analyst_fixtures import MARGINS

REGRESSIONS = [{"outcome": "overall", "drivers": "dimensions"},
               {"outcome": "overall", "model": "logistic", "satisfied_at": 60}]
CROSSTABS = [{"rows": "band:index", "columns": "age_group"}]


def spec(**overrides):
    return spec_from_dict({"waves": ["2024"], "outcomes": ["index"], **overrides})


def test_run_reports_svyglm_svychisq_and_weight_diagnostics(world):
    the_spec = spec(weighting={"method": "rake", "margins": MARGINS, "trim": {"upper": 1.2}},
                    regressions=REGRESSIONS, crosstabs=CROSSTABS)
    outcome = run_spec(the_spec)
    (wave,) = find_waves(["2024"])
    data = load_wave(wave)
    design, note = weighted_design(wave_design(data, the_spec), the_spec)
    dims = [f"dim_{d.id}" for d in data.questionnaire.dimensions]

    linear, logistic = outcome.results["regressions"]
    direct = key_drivers(design, "overall", dims)
    assert [c["driver"] for c in linear["coefficients"]] == [d.removeprefix("dim_") for d in dims]
    np.testing.assert_allclose([c["se"] for c in linear["coefficients"]], direct.table["se"],
                               rtol=1e-12)
    assert linear["df"] == direct.df and linear["model"] == "linear"
    direct = key_drivers(design, "overall", dims, satisfied_at=60)
    np.testing.assert_allclose([c["coefficient"] for c in logistic["coefficients"]],
                               direct.table["coefficient"], rtol=1e-12)
    assert logistic["satisfied_at"] == 60 and logistic["r_squared"] is None

    (table,) = outcome.results["crosstabs"]
    data.frame["band:index"] = [None if b is None else f"{b.label.zh} / {b.label.en}"
                                for b in map(data.questionnaire.band_for, data.frame["index"])]
    test = svychisq(design, "band:index", "age_group")
    assert table["statistic"] == pytest.approx(test.statistic, rel=1e-12)
    assert table["ddf"] == pytest.approx(test.ddf, rel=1e-12)
    assert sum(c["proportion"] for c in table["cells"]) == pytest.approx(1.0)

    weights = outcome.results["waves"]["2024"]["weights"]
    assert weights["kish_deff"] == pytest.approx(1 + weights["cv"] ** 2)
    assert weights["maximum"] == pytest.approx(design.weights.max())
    assert weights["share_trimmed"] == note["trim"]["share_trimmed"]
    assert 0 < weights["share_trimmed"] < 1
    row = outcome.table.iloc[0]
    assert row.n_eff == pytest.approx(row.n / row.deff)

    tables = results_tables(outcome.results)  # the sheets of an xlsx download
    assert len(tables["regressions"]) == 2 * len(dims)
    assert list(tables["crosstabs"]["rows"]) == ["band:index"]
    assert tables["weights"]["kish_deff"].iloc[0] == weights["kish_deff"]


def test_unweighted_run_still_reports_weights_and_no_trim(world):
    weights = run_spec(spec()).results["waves"]["2024"]["weights"]
    assert weights["kish_deff"] == pytest.approx(1.0) and weights["share_trimmed"] is None


@pytest.mark.parametrize("overrides, message", [
    ({"regressions": [{"outcome": "overall", "drivers": ["nope"]}]},
     "regressions[0].drivers[0]: 'nope' is not a dimension"),
    ({"regressions": [{"outcome": "item:zz"}]}, "regressions[0].outcome: 'item:zz' is not a score"),
    ({"crosstabs": [{"rows": "band:dimension:zz", "columns": "sex"}]},
     "crosstabs[0].rows: 'dimension:zz' is not a score"),
])
def test_names_the_questionnaire_lacks_are_refused_with_their_path(world, english, overrides,
                                                                   message):
    with pytest.raises(SpecError) as caught:
        run_spec(spec(**overrides))
    assert any(p.startswith(message) for p in caught.value.problems), caught.value.problems
