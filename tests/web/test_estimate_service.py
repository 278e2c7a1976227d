"""Running specs on stored responses: weighting, domains, proportions, comparisons, fingerprints."""
import time

import numpy as np
import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.runs import ResponseManifest
from surveyapp.models.survey import Response
from surveyapp.services import estimation
from surveyapp.services.estimation import EstimationError, read_manifest, record_run, run_spec
from surveyapp.specs import SpecError, spec_from_dict
from tests.web.analyst_fixtures import DISTRICTS, MARGINS, POPULATION
from tests.web.factories import make_wave


def spec(**overrides):
    document = {"waves": ["2024"], "outcomes": ["index"], **overrides}
    return spec_from_dict(document)


def test_raked_index_by_district_with_share_satisfied(world):
    outcome = run_spec(spec(
        outcomes=["index", "dimensions", {"proportion": "index", "at_least": 80,
                                          "name": "share_satisfied"}],
        domains=["district"],
        weighting={"method": "rake", "margins": MARGINS},
    ))
    table = outcome.table
    whole = table[(table.outcome == "index") & (table.domain == "all")].iloc[0]
    assert whole.n == 40 and whole.ci_low < whole.estimate < whole.ci_high
    assert set(table[table.domain == "district"].level) == set(DISTRICTS)
    share = table[table.outcome == "share_satisfied"]
    assert ((share.estimate >= 0) & (share.estimate <= 1)).all()
    assert {o for o in table.outcome if o.startswith("dimension:")}
    weighting = outcome.results["waves"]["2024"]["weighting"]
    assert weighting["converged"] is True, weighting
    assert weighting["variables"] == ["age_group", "sex"]
    data = outcome.waves[0].frame
    assert outcome.response_count == len(data) == 40


def test_weights_sum_to_population_and_trim_caps_them(world):
    from surveyapp.services.estimation import find_waves, load_wave, wave_design, weighted_design

    (wave,) = find_waves(["2024"])
    data = load_wave(wave)
    raking = spec(weighting={"method": "rake", "margins": MARGINS})
    raked, _ = weighted_design(wave_design(data, raking), raking)
    present = data.frame["district"].nunique()
    assert raked.weights.sum() == pytest.approx(POPULATION * present)
    trimming = spec(weighting={"method": "rake", "margins": MARGINS, "trim": {"upper": 1.2}})
    trimmed, note = weighted_design(wave_design(data, trimming), trimming)
    assert trimmed.weights.max() <= 1.2 * note["trim"]["mean_weight_before"] * (1 + 1e-9) or \
        trimmed.weights.max() < raked.weights.max()


def test_comparison_between_waves(world):
    outcome = run_spec(spec(waves=["2023", "2024"], domains=["sex"],
                            comparisons=[{"from": "2023", "to": "2024"}]))
    comparisons = outcome.comparisons
    overall = comparisons[(comparisons.outcome == "index") & (comparisons.domain == "all")].iloc[0]
    table = outcome.table.set_index(["wave", "outcome", "domain", "level"])
    expected = (table.loc[("2024", "index", "all", "all"), "estimate"]
                - table.loc[("2023", "index", "all", "all"), "estimate"])
    assert overall.difference == pytest.approx(expected)
    assert 0 <= overall.p_value <= 1 and isinstance(overall.significant, (bool, np.bool_))


def test_same_data_same_fingerprint_and_results(world):
    first, second = run_spec(spec(domains=["district"])), run_spec(spec(domains=["district"]))
    assert first.data_hash == second.data_hash and first.results == second.results
    scoped = run_spec(spec(), districts=[DISTRICTS[0]])
    assert scoped.data_hash != first.data_hash and scoped.results["districts"] == [DISTRICTS[0]]


def test_a_recorded_runs_manifest_is_loaded_only_when_read(world):
    """Refreshing a run after its commit (or listing runs) does not fetch its manifest,
    24 MB at a million responses; reading it does, unchanged."""
    outcome = run_spec(spec())
    run = record_run(spec(), outcome, created_by="test")
    db.session.commit()
    assert run.id and "manifest_row" not in sa.inspect(run).dict
    assert read_manifest(run.response_manifest) == read_manifest(outcome.manifest)
    assert len(read_manifest(run.response_manifest)) == outcome.response_count


def test_runs_on_the_same_data_share_one_manifest(world):
    """A rerun on unchanged data stores no second copy of the manifest (24 MB a million
    responses); a run on other data stores its own, and each run reads back its own."""
    first = record_run(spec(), run_spec(spec()), created_by="test")
    again = record_run(spec(), run_spec(spec()), created_by="test")
    scoped_outcome = run_spec(spec(), districts=[DISTRICTS[0]])
    scoped = record_run(spec(), scoped_outcome, created_by="test")
    db.session.commit()
    stored = db.session.scalars(sa.select(ResponseManifest.data_hash)).all()
    assert sorted(stored) == sorted({first.data_hash, scoped.data_hash})
    assert again.data_hash == first.data_hash and again.response_manifest == first.response_manifest
    assert read_manifest(scoped.response_manifest) == read_manifest(scoped_outcome.manifest)
    assert len(read_manifest(scoped.response_manifest)) < len(read_manifest(first.response_manifest))


@pytest.mark.parametrize("overrides, message", [
    ({"waves": ["1999"]}, "waves[0]: unknown wave '1999'; known waves: 2023, 2024"),
    ({"weighting": {"method": "rake", "margins": "nope"}},
     "weighting.margins: unknown margin set 'nope'"),
    ({"weighting": {"method": "rake", "margins": MARGINS, "variables": ["income"]}},
     "weighting.variables[0]: margin set 'census-test' has no district x 'income' margin"),
    ({"outcomes": [{"item": "zz"}]}, "outcomes[0].item: 'zz' is not an item"),
    ({"outcomes": [{"proportion": "index", "band": "ecstatic"}]},
     "outcomes[0].band: unknown band 'ecstatic'"),
    ({"domains": ["income"]}, "domains[0]: unknown variable 'income'"),
    ({"questionnaire": "government"}, "questionnaire: wave '2024' uses questionnaire 'citizen'"),
])
def test_problems_that_need_the_data_name_their_path(world, english, overrides, message):
    with pytest.raises(SpecError) as caught:
        run_spec(spec(**overrides))
    assert any(p.startswith(message) for p in caught.value.problems), caught.value.problems


def test_data_problems_are_in_chinese_by_default_after_their_path(world):
    with pytest.raises(SpecError) as caught:
        run_spec(spec(waves=["1999"]))
    assert caught.value.problems == ["waves[0]: 未知的测评批次 '1999'；现有批次：2023, 2024"]
    with pytest.raises(SpecError) as caught:
        run_spec(spec(weighting={"method": "rake", "margins": "nope"}))
    assert caught.value.problems == [
        "weighting.margins: 未知的边际分布表 'nope'；现有：census-test"]


def test_design_variable_problems_are_named(world, english):
    # A stored response never changes, so a wave's kept snapshot is not checked for edits like
    # this one: it is made before anything reads the wave.
    db.session.execute(sa.update(Response).where(
        Response.id == sa.select(Response.id).limit(1).scalar_subquery()).values(street_code=None))
    db.session.commit()
    with pytest.raises(SpecError, match="design.psu: unknown variable 'colour'"):
        run_spec(spec(design={"psu": "colour"}))
    with pytest.raises(EstimationError, match="design.psu: 1 responses have no street"):
        run_spec(spec(waves=["2023", "2024"], design={"psu": "street"}))
    assert run_spec(spec(waves=["2023", "2024"], design={"psu": None})).table["n"].sum() == 80


def test_a_label_shared_by_two_questionnaires_needs_the_questionnaire(world, english):
    make_wave("2024", questionnaire="public_service", districts=DISTRICTS)
    with pytest.raises(SpecError, match=r"waves\[0\]: 2 waves are labelled '2024' "
                                        r"\(citizen, public_service\); name one as questionnaire"):
        run_spec(spec())
    assert run_spec(spec(questionnaire="citizen")).response_count == 40


@pytest.mark.parametrize("variance, weighting", [
    ({"method": "jkn"}, {"method": "rake", "margins": MARGINS}),
    ({"method": "bootstrap", "replicates": 20, "seed": 3}, {"method": "none"}),
    ({"method": "taylor"}, {"method": "poststratify", "margins": MARGINS, "variables": ["sex"]}),
])
def test_replicate_variance_and_poststratification(world, variance, weighting):
    outcome = run_spec(spec(variance=variance, weighting=weighting,
                            interval={"method": "normal", "level": 0.9}))
    row = outcome.table.iloc[0]
    assert row.se > 0 and row.ci_low < row.estimate < row.ci_high
    again = run_spec(spec(variance=variance, weighting=weighting,
                          interval={"method": "normal", "level": 0.9}))
    assert again.results == outcome.results  # seeded replicates reproduce exactly


def test_engine_refusals_become_estimation_errors(world):
    with pytest.raises(EstimationError, match="'jk1' is for unstratified designs; use 'jkn'"):
        run_spec(spec(variance={"method": "jk1"}))


def test_tables_estimated_side_by_side_are_those_of_one_thread(world, monkeypatch):
    """The tables of a wave run on several threads: the same rows in the same order as one
    after another, and a table that fails is reported as it would be alone."""
    many = spec(outcomes=["index", "dimensions", {"proportion": "index", "at_least": 80,
                                                 "name": "share_satisfied"}],
                domains=["district", "sex"], weighting={"method": "rake", "margins": MARGINS})
    monkeypatch.setattr(estimation, "TABLE_THREADS", 1)
    alone = run_spec(many).results
    monkeypatch.setattr(estimation, "TABLE_THREADS", 4)
    assert run_spec(many).results == alone
    failing = spec(outcomes=["index", {"quantile": "index", "p": 0.5}], domains=["district"])
    monkeypatch.setattr(estimation, "TABLE_THREADS", 1)
    with pytest.raises(EstimationError) as one_thread:
        _fail_the_quantile(monkeypatch, failing)
    monkeypatch.setattr(estimation, "TABLE_THREADS", 4)
    with pytest.raises(EstimationError) as four_threads:
        _fail_the_quantile(monkeypatch, failing)
    assert str(four_threads.value) == str(one_thread.value) == "median_index: no quantile by None"


def _fail_the_quantile(monkeypatch, failing):
    """Run ``failing`` with its quantile tables refused by the engine, the whole wave's (the
    first in order) last of all."""
    from analysis.design import SurveyDesign

    def refused(self, variable, p=0.5, by=None, **kwargs):
        if by is None:
            time.sleep(0.3)
        raise ValueError(f"no quantile by {by}")

    monkeypatch.setattr(SurveyDesign, "quantile", refused)
    run_spec(failing)
