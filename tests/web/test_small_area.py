"""Small-area street estimates: the service against analysis.fay_herriot on the wave's own
direct estimates, the disclosure rule, the report section, the CLI and the API."""
from __future__ import annotations

import io
import json
from datetime import timedelta

import numpy as np
import pytest
from openpyxl import load_workbook

from analysis.fay_herriot import fay_herriot
from surveyapp.cli.small_area import sae
from surveyapp.extensions import db
from surveyapp.models.survey import District, utcnow
from surveyapp.reports.csv import build_csv
from surveyapp.reports.excel import build_workbook
from surveyapp.services import small_area
from surveyapp.services.reporting import build_district_report, report_inputs
from surveyapp.services.small_area_report import district_published, street_model
from surveyapp.services.tokens import create_token
from tests.reports.sample import csv_tables
from tests.web.factories import HONGKOU, make_wave, questionnaire_for
from tests.web.staff_fixtures import add_response, make_user

YANGPU = "310110"
LIMIT = 30
COUNTS = (3, 6, 9, 12, 16, 22, 35, 45)  # cycled over each district's streets


def _fill(wave, per_street, seed: int) -> None:
    rng = np.random.default_rng(seed)
    items = [item.id for item in questionnaire_for(wave).items]
    for district in (HONGKOU, YANGPU):
        for i, street in enumerate(db.session.get(District, district).streets):
            effect = rng.normal(0, 0.2)  # streets differ little; residents differ a lot
            for k in range(per_street(i)):
                person = rng.normal(0, 1.5)
                values = np.clip(np.round(7 + effect + person + rng.normal(0, 1, len(items))),
                                 1, 10)
                add_response(wave, dict(zip(items, map(int, values))), district=district,
                             street=street.code, sex="F" if k % 2 else "M",
                             age_group=("18-29", "30-44", "45-59", "60+")[k % 4], minute=k)


@pytest.fixture
def waves(app):
    app.config["SURVEYAPP_SUPPRESS_BELOW"] = LIMIT
    now = utcnow()
    earlier = make_wave("2023", districts=[HONGKOU, YANGPU], opens_at=now - timedelta(days=400),
                        closes_at=now - timedelta(days=300))
    current = make_wave("2024", districts=[HONGKOU, YANGPU])
    _fill(earlier, lambda i: 8 + 3 * (i % 3), seed=1)
    _fill(current, lambda i: COUNTS[i % len(COUNTS)], seed=2)
    db.session.commit()
    return earlier, current


def test_model_is_the_fay_herriot_fit_of_the_direct_street_estimates(waves):
    inputs = report_inputs(waves[1])
    model = street_model(inputs)
    table = model.streets
    direct = inputs.current.streets.reindex(table.index)
    usable = (direct["n"].fillna(0) >= small_area.MIN_DIRECT_N).to_numpy()
    assert model.auxiliaries == ("district_index", "previous_street")
    X = np.column_stack([np.ones(len(table)), table["district_index"], table["previous_street"]])
    fit = fay_herriot(np.where(usable, direct["estimate"], np.nan),
                      np.where(usable, direct["se"] ** 2, np.nan), X)
    np.testing.assert_allclose(table["eblup"], fit.eblup, rtol=1e-12)
    np.testing.assert_allclose(table["rmse"] ** 2, fit.mse, rtol=1e-12)
    assert list(table["sampled"]) == list(usable)
    # a district-level auxiliary is the district's index of this wave
    index = inputs.current.scores["index"]["estimate"]
    assert (table.loc[table["district"] == HONGKOU, "district_index"] == index[HONGKOU]).all()
    # fewer than MIN_DIRECT_N responses: the synthetic estimate, none of their responses used
    few = table[table["n"] < small_area.MIN_DIRECT_N]
    assert len(few) and (few["eblup"] == few["synthetic"]).all() and (few["shrinkage"] == 0).all()


def test_published_streets_follow_the_disclosure_rule(waves):
    inputs = report_inputs(waves[1])
    _, rows = district_published(inputs, HONGKOU, LIMIT)
    _, hidden = small_area.withheld_streets(inputs.current, HONGKOU, [r.code for r in rows],
                                            LIMIT)
    assert hidden and len(hidden) < len(rows)
    for row in rows:
        assert (row.direct is None) == (row.code in hidden) == row.direct_withheld
        assert row.model is not None  # small shrinkage here: every model figure is published
        assert all(value == round(value, 1) for value in row.model)
    assert {r.basis for r in rows if r.n < small_area.MIN_DIRECT_N} == {"synthetic"}
    records = small_area.published_json(rows)
    assert not {"shrinkage", "synthetic", "beta"} & {k for r in records for k in r}
    assert not {"shrinkage", "synthetic"} & {k for r in records if r["model"]
                                             for k in r["model"]}


def test_a_model_figure_dominated_by_a_withheld_street_is_withheld(waves, monkeypatch):
    monkeypatch.setattr(small_area, "MAX_OWN_WEIGHT", 0.0)
    _, rows = district_published(report_inputs(waves[1]), HONGKOU, LIMIT)
    for row in rows:
        leans = row.direct is None and row.basis == "eblup"
        assert row.model_withheld == leans and (row.model is None) == leans


def test_district_report_has_the_section_in_every_format(waves):
    report = build_district_report(waves[1], HONGKOU, "en")
    section = report.small_area
    assert section is not None and len(section.rows) == len(report.streets)
    assert "Fay-Herriot" in section.note and "wave 2023" in section.note
    assert {row.basis for row in section.rows} == {"model-based / 模型估计 (EBLUP)",
                                                   "model-based / 模型估计 (synthetic)"}
    for street, row in zip(report.streets, section.rows):
        assert (street.estimate is None) == (row.direct is None)
    sheet = load_workbook(io.BytesIO(build_workbook(report)))["Small-area estimates by street"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert header[:4] == ["Code", "Street", "Responses", "Direct estimate"]
    assert "Model-based estimate" in header and "Std. error" in header
    tables = csv_tables(build_csv(report))
    assert len(tables["small_area"]) == len(section.rows)
    zh = build_district_report(waves[1], HONGKOU, "zh").small_area
    assert zh.rows[0].basis.startswith("模型估计 / model-based")


def test_a_wave_with_too_few_streets_has_no_section(app):
    app.config["SURVEYAPP_SUPPRESS_BELOW"] = LIMIT
    wave = make_wave("2024", districts=[HONGKOU])
    _fill(wave, lambda i: 6 if i < 2 else 0, seed=3)
    db.session.commit()
    assert build_district_report(wave, HONGKOU, "en").small_area is None


def test_cli_shows_the_whole_model(waves, runner):
    result = runner.invoke(sae, ["--wave", "2024", "--district", HONGKOU, "--format", "json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["model"]["auxiliaries"] == ["district_index", "previous_street"]
    assert {"shrinkage", "direct"} <= set(body["model"]["streets"][0])
    table = runner.invoke(sae, ["--wave", "2024", "--district", HONGKOU])
    assert table.exit_code == 0 and "shrinkage" in table.output
    unknown = runner.invoke(sae, ["--wave", "2024", "--district", "310101"])
    assert unknown.exit_code != 0


def test_api_gives_bureaus_the_publication_and_analysts_the_model(waves, client):
    own = make_user("bureau", [HONGKOU])
    other = make_user("bureau", [YANGPU])
    analyst = make_user("analyst")
    tokens = {u: create_token(u.username)[1] for u in (own, other, analyst)}
    db.session.commit()

    def get(user, query):
        return client.get(f"/api/v1/waves/2024/small-area{query}",
                          headers={"Authorization": f"Bearer {tokens[user]}"})

    bureau = get(own, f"?district={HONGKOU}")
    assert bureau.status_code == 200
    assert "model" not in bureau.json and len(bureau.json["streets"]) == 8
    assert any(s["direct"] is None and s["model"] for s in bureau.json["streets"])
    full = get(analyst, f"?district={HONGKOU}").json
    assert full["streets"] == bureau.json["streets"]
    assert {"beta", "model_variance", "streets"} <= set(full["model"])
    assert get(other, f"?district={HONGKOU}").status_code == 404
    assert get(analyst, "").status_code == 400
    assert get(analyst, "?district=310101").status_code == 404
