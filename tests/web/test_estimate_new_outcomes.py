"""Specs with the estimators added in issue 11: medians, ratios, likelihood intervals,
calibration with bounds, partial post-stratification and BRR/Fay/bootstrap variances."""
import numpy as np
import pytest

from surveyapp.services.estimation import (EstimationError, find_waves, load_wave,
                                           margin_targets, run_spec, wave_design,
                                           weighted_design)
from surveyapp.specs import SpecError, spec_from_dict
from tests.web.analyst_fixtures import DISTRICTS, MARGINS


def spec(**overrides):
    return spec_from_dict({"waves": ["2024"], "outcomes": ["index"], **overrides})


def wave_data():
    (wave,) = find_waves(["2024"])
    return load_wave(wave)


def weighted(data, document):
    """The weighted design a run of ``document`` uses for the 2024 wave."""
    return weighted_design(wave_design(data, document), document)


def test_median_and_ratio_by_district_match_the_engine(world):
    document = spec(outcomes=[{"quantile": "index"}, {"ratio": "overall", "denominator": "index"},
                              {"proportion": "index", "at_least": 80, "name": "share80"}],
                    domains=["district"], interval={"proportion_method": "likelihood"})
    table = run_spec(document).table.set_index(["outcome", "domain", "level"])
    data = wave_data()
    frame = data.frame
    frame["share80"] = (frame["index"] >= 80).astype(float).where(frame["index"].notna())
    design, _ = weighted(data, document)
    median = design.quantile("index", 0.5, by="district")
    ratio = design.ratio("overall", "index")
    share = design.proportion("share80", 1.0, method="likelihood")
    for district in DISTRICTS:
        row = table.loc[("median_index", "district", district)]
        assert row.estimate == median.loc[district, "estimate"]
        assert row.ci_low <= row.estimate <= row.ci_high and row.df == median.loc[district, "df"]
    whole = table.loc[("ratio_overall_index", "all", "all")]
    assert whole.estimate == pytest.approx(ratio.estimate, rel=1e-12) and whole.se > 0
    liked = table.loc[("share80", "all", "all")]
    assert liked.ci_low == pytest.approx(share.ci_low, rel=1e-12) and liked.ci_low < liked.estimate


@pytest.mark.parametrize("calfun, bounds", [("linear", None), ("raking", {"lower": 0.05,
                                                                          "upper": 5}),
                                            ("logit", {"lower": 0.1, "upper": 2.5})])
def test_calibration_meets_the_margins_within_bounds(world, calfun, bounds):
    weighting = {"method": "calibrate", "margins": MARGINS, "calfun": calfun}
    if bounds:
        weighting["bounds"] = bounds
    document = spec(weighting=weighting)
    data = wave_data()
    frame = data.frame
    design, note = weighted(data, document)
    margins = margin_targets(MARGINS, [], set(frame["district"]))
    for (district, variable), targets in margins.items():
        ours = frame.assign(w=design.weights).groupby([district, variable]).w.sum()
        for cell, count in targets.items():
            assert ours.get(cell, 0.0) == pytest.approx(count, rel=1e-7)
    assert note["calfun"] == calfun
    if bounds:
        assert bounds["lower"] - 1e-9 <= note["g_min"] and note["g_max"] <= bounds["upper"] + 1e-9
    assert run_spec(document).table.iloc[0].se > 0


def test_loose_raking_bounds_change_nothing(world):
    """g < exp(lower - 1) stalls R's bounded raking (its derivative test is on log g); ours
    reaches the unbounded solution when the bounds do not bind."""
    loose, _ = weighted(wave_data(), spec(weighting={
        "method": "calibrate", "margins": MARGINS, "calfun": "raking",
        "bounds": {"lower": 0.05, "upper": 5}}))
    free, note = weighted(wave_data(), spec(weighting={
        "method": "calibrate", "margins": MARGINS, "calfun": "raking"}))
    assert note["g_min"] < np.exp(0.05 - 1)
    np.testing.assert_allclose(loose.weights, free.weights, rtol=1e-9)


def test_calibration_bounds_that_cannot_be_met_are_an_estimation_error(world):
    with pytest.raises(EstimationError, match="widen the bounds"):
        run_spec(spec(weighting={"method": "calibrate", "margins": MARGINS, "calfun": "raking",
                                 "bounds": {"lower": 0.999, "upper": 1.001}}))


def test_partial_poststratification_runs(world):
    outcome = run_spec(spec(weighting={"method": "poststratify", "margins": MARGINS,
                                       "variables": ["sex"], "partial": True}))
    assert outcome.results["waves"]["2024"]["weighting"]["partial"] is True
    assert outcome.table.iloc[0].se > 0


@pytest.mark.parametrize("variance", [{"method": "bootstrap_cd", "replicates": 30, "seed": 2},
                                      {"method": "brr"}, {"method": "fay", "fay_rho": 0.3}])
def test_new_replicate_variances(world, variance):
    # 18 women and 22 men: strata with an even number of single-row PSUs, as BRR needs
    document = spec(variance=variance, design={"strata": "sex", "psu": None},
                    domains=["district"])
    outcome = run_spec(document)
    row = outcome.table.iloc[0]
    assert row.se > 0 and row.ci_low < row.estimate < row.ci_high
    assert run_spec(document).results == outcome.results


def test_brr_refuses_strata_with_odd_psu_counts(world):
    with pytest.raises(EstimationError, match="odd number of PSUs"):
        run_spec(spec(variance={"method": "brr"}, design={"psu": None}))


@pytest.mark.parametrize("document, message", [
    ({"outcomes": [{"quantile": "index", "p": 1.5}]}, "outcomes[0].p: expected a number between"),
    ({"outcomes": [{"quantile": "index"}], "variance": {"method": "jkn"}},
     "outcomes[0]: quantile outcomes need variance.method taylor"),
    ({"outcomes": [{"ratio": "index"}]}, "outcomes[0].denominator: required"),
    ({"outcomes": [{"ratio": "index", "denominator": "happiness"}]},
     "outcomes[0].denominator: expected index, overall"),
    ({"interval": {"proportion_method": "likelihood"}, "variance": {"method": "brr"}},
     "interval.proportion_method: likelihood needs variance.method taylor"),
    ({"weighting": {"method": "calibrate", "margins": "m", "calfun": "logit"}},
     "weighting.bounds: required for calfun logit"),
    ({"weighting": {"method": "calibrate", "margins": "m", "bounds": {"lower": 1.5}}},
     "weighting.bounds.lower: expected a number between 0 and 1"),
    ({"weighting": {"method": "rake", "margins": "m", "calfun": "raking"}},
     "weighting.calfun: only used with method calibrate"),
    ({"weighting": {"method": "rake", "margins": "m", "partial": True}},
     "weighting.partial: only used with method poststratify"),
    ({"variance": {"method": "fay", "fay_rho": 1}}, "variance.fay_rho: expected a number above 0"),
    ({"variance": {"method": "brr", "fay_rho": 0.5}}, "variance.fay_rho: only used with method fay"),
])
def test_new_spec_keys_are_validated_with_their_path(document, message):
    with pytest.raises(SpecError) as caught:
        spec_from_dict({"waves": ["2024"], **document}, source_name="spec")
    assert any(p.startswith(f"spec: {message}") for p in caught.value.problems), \
        caught.value.problems


def test_canonical_form_keeps_the_new_keys():
    document = spec(outcomes=[{"quantile": "index", "p": 0.25}, {"ratio": "overall",
                                                                 "denominator": "index"}],
                    weighting={"method": "calibrate", "margins": "m", "calfun": "logit",
                               "bounds": {"lower": 0.5, "upper": 2}},
                    variance={"method": "taylor"})
    again = spec_from_dict(document.to_dict())
    assert again == document and again.outcomes[0].name == "p25_index"
    assert document.to_dict()["weighting"]["bounds"] == {"lower": 0.5, "upper": 2.0}
