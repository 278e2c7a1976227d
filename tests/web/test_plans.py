"""Sampling plans: allocation and draw stored on the wave, the declared design it makes,
populations CSV errors naming row and column, invitations to the plan, progress, the CLI."""
from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from surveyapp.blueprints.api_openapi import openapi_document
from surveyapp.cli.plans import plan
from surveyapp.extensions import db
from surveyapp.models.survey import InvitationCode, utcnow
from surveyapp.services.plan_populations import PopulationError
from surveyapp.services.plans import PlanError, PlanRequest, make_plan, plan_table
from surveyapp.services.estimation import load_wave
from surveyapp.services.sample_design import DESIGN_WEIGHT, design_for_wave
from surveyapp.services.tokens import create_token
from tests.web.factories import HONGKOU, make_response, make_responses, make_wave
from tests.web.staff_fixtures import login_as, make_user, staff_client

YANGPU = "310110"
POPULATIONS = (Path(__file__).resolve().parents[2] / "questionnaires" / "geography"
               / "shanghai-populations-INVENTED.csv")


def csv_bytes() -> bytes:
    return POPULATIONS.read_bytes()


@pytest.fixture
def waves(app):
    last = make_wave("2024", districts=[HONGKOU, YANGPU], open=False)
    make_responses(last, 120, seed=3)
    now = utcnow()
    new = make_wave("2025", districts=[HONGKOU, YANGPU], mode="invitation",
                    opens_at=now + timedelta(days=1), closes_at=now + timedelta(days=30))
    return last, new


def test_a_plan_allocates_the_total_and_declares_the_design(waves):
    _, wave = waves
    plan = make_plan(wave, csv_bytes(), POPULATIONS.name,
                     PlanRequest(600, "sqrt", min_per_street=10), "test")
    db.session.commit()
    assert sum(r.target for r in plan.streets) == 600
    assert min(r.target for r in plan.streets) >= 10
    assert wave.sample_design == "district_street" and plan.selection == "all"
    assert plan.sd_wave_label == "2024"
    city, districts = plan_table(wave, plan)
    assert city.target == 600 and city.half_width is not None and city.half_width > 0
    assert [d.district for d, _ in districts] == [HONGKOU, YANGPU]
    # the district's figure is the stratified formula over its streets: no larger than the
    # widest street's
    for district, streets in districts:
        assert district.half_width <= max(s.half_width for s in streets)


def test_proportional_two_step_allocation_is_proportional(waves):
    _, wave = waves
    plan = make_plan(wave, csv_bytes(), "p.csv", PlanRequest(1000, "proportional"), "test")
    pops = np.array([r.population for r in plan.streets], dtype=float)
    targets = np.array([r.target for r in plan.streets])
    assert np.abs(targets - 1000 * pops / pops.sum()).max() < 1.5  # two roundings at most


def test_drawn_streets_make_a_street_psu_design_with_plan_weights(waves):
    wave = make_wave("2025-open", districts=[HONGKOU, YANGPU])
    plan = make_plan(wave, csv_bytes(), "p.csv",
                     PlanRequest(300, "proportional", 5, streets_per_district=3,
                                 selection="pps", seed=11), "test")
    db.session.commit()
    drawn = [r for r in plan.streets if r.selected]
    assert wave.sample_design == "street_psu" and len(drawn) == 6
    assert {r.target for r in plan.streets if not r.selected} == {0}
    again = make_plan(wave, csv_bytes(), "p.csv",
                      PlanRequest(300, "proportional", 5, streets_per_district=3,
                                  selection="pps", seed=11), "test")
    assert [r.street_code for r in again.streets if r.selected] == [r.street_code for r in drawn]
    db.session.commit()
    for row in drawn[:2]:
        for n in range(3):
            make_response(wave, district=row.district_code, street=row.street_code, seed=n)
    frame = load_wave(wave).frame
    prepared = design_for_wave(wave, frame)
    assert prepared.arguments.psu == ("street", "response_id") and prepared.arguments.fpc == ()
    first = drawn[0]
    expected = first.population / 3 / first.inclusion_probability
    got = prepared.frame.loc[prepared.frame["street"] == first.street_code, DESIGN_WEIGHT]
    assert np.allclose(got, expected)
    # the design's mean is the plan-weighted (Hajek) mean of the responses
    rows = prepared.frame.dropna(subset=["index"])
    mean = prepared.survey_design().mean("index")
    assert mean.estimate == pytest.approx(np.average(rows["index"], weights=rows[DESIGN_WEIGHT]),
                                          rel=1e-12)


def test_neyman_needs_last_wave(app):
    wave = make_wave("2025", districts=[HONGKOU])
    with pytest.raises(PlanError, match="neyman|Neyman"):
        make_plan(wave, csv_bytes(), "p.csv", PlanRequest(100, "neyman"), "test")


def test_neyman_gives_more_to_variable_streets(waves):
    _, wave = waves
    plan = make_plan(wave, csv_bytes(), "p.csv", PlanRequest(500, "neyman"), "test")
    assert sum(r.target for r in plan.streets) == 500 and plan.method == "neyman"
    assert all(r.sd is not None for r in plan.streets)


def test_a_plan_is_refused_once_responses_arrive(waves):
    last, _ = waves
    with pytest.raises(PlanError, match="already has responses"):
        make_plan(last, csv_bytes(), "p.csv", PlanRequest(100, "sqrt"), "test")


def test_population_errors_name_row_and_column(waves):
    _, wave = waves
    bad = (b"street_code,adult_population\n310109001,12x\n999,100\n310109001,5\n")
    with pytest.raises(PopulationError) as caught:
        make_plan(wave, bad, "pop.csv", PlanRequest(100, "sqrt"), "test")
    problems = caught.value.problems
    assert "pop.csv: 第2行，adult_population列" in problems[0] and "row 2, column " \
        "adult_population: expected a whole number" in problems[0]
    assert "row 3, column street_code: no street '999'" in problems[1]
    assert "row 4, column street_code: street 310109001 appears twice" in problems[2]
    with pytest.raises(PopulationError, match="missing column"):
        make_plan(wave, b"code,population\n", "pop.csv", PlanRequest(100, "sqrt"), "test")
    with pytest.raises(PopulationError, match="no row for street 310109002"):
        make_plan(wave, b"street_code,adult_population\n310109001,500\n", "pop.csv",
                  PlanRequest(100, "sqrt"), "test")


def test_invitations_to_the_plan_top_up_each_street(waves):
    from surveyapp.services.plans import plan_invitations

    _, wave = waves
    plan = make_plan(wave, csv_bytes(), "p.csv", PlanRequest(120, "proportional", 2,
                                                             streets_per_district=2), "test")
    codes = plan_invitations(wave, plan)
    assert len(codes) == 120
    assert plan_invitations(wave, plan) == []  # already issued: nothing more
    with pytest.raises(PlanError, match="invitation codes already"):
        make_plan(wave, csv_bytes(), "p.csv", PlanRequest(120, "sqrt"), "test")
    counts = {}
    for code in db.session.query(InvitationCode).filter_by(wave_id=wave.id):
        counts[code.street_code] = counts.get(code.street_code, 0) + 1
    assert counts == {r.street_code: r.target for r in plan.streets if r.selected}


def test_cli_create_show_and_invite(app, runner, waves, tmp_path):
    result = runner.invoke(plan, ["create", "--wave", "2025", "--populations",
                                 str(POPULATIONS), "--total", "400", "--method", "sqrt",
                                 "--min-per-street", "8", "--draw-streets", "4",
                                 "--selection", "srs", "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert "400 responses, sqrt, min 8/street, 8 of" in result.output
    shown = runner.invoke(plan, ["show", "--wave", "2025"])
    assert shown.exit_code == 0 and "streets not drawn are not listed" in shown.output
    codes = tmp_path / "codes.csv"
    issued = runner.invoke(plan, ["invitations", "--wave", "2025", "--output", str(codes)])
    assert issued.exit_code == 0, issued.output
    assert len(codes.read_text().splitlines()) == 401 and "400 codes" in issued.output
    refused = runner.invoke(plan, ["create", "--wave", "2024", "--populations",
                                  str(POPULATIONS), "--total", "400"])
    assert refused.exit_code != 0 and "already has responses" in refused.output


def _post(client, url, data, **kwargs):
    page = client.get("/admin/").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


def test_admin_page_makes_shows_and_invites(app, waves):
    last, wave = waves
    client = staff_client(app)
    login_as(client, make_user("admin", username="chen"))
    db.session.commit()
    url = f"/admin/waves/{wave.id}/plan"
    assert "can no longer be made" in client.get(f"/admin/waves/{last.id}/plan").get_data(
        as_text=True)
    assert "制定方案 Make a plan" in client.get(url).get_data(as_text=True)
    bad = _post(client, url, {"populations": (io.BytesIO(b"street_code,adult_population\n"
                                                         b"310109001,x\n"), "p.csv"),
                              "total": "300", "method": "sqrt", "min_per_street": "5",
                              "selection": "pps", "seed": "1"},
                content_type="multipart/form-data")
    assert bad.status_code == 422 and "row 2, column adult_population" in bad.get_data(
        as_text=True)
    made = _post(client, url, {"populations": (io.BytesIO(csv_bytes()), "pop.csv"),
                               "total": "300", "method": "sqrt", "min_per_street": "5",
                               "draw_streets": "3", "selection": "pps", "seed": "7"},
                 content_type="multipart/form-data")
    page = made.get_data(as_text=True)
    assert made.status_code == 200 and "未抽中 not drawn" in page and "±" in page
    codes = _post(client, f"{url}/invitations", {})
    assert codes.mimetype == "text/csv"
    assert len(codes.get_data(as_text=True).strip().splitlines()) == 301


def test_api_plan_is_scoped_to_the_bureau(app, waves):
    _, wave = waves
    make_plan(wave, csv_bytes(), "pop.csv", PlanRequest(200, "proportional"), "test")
    db.session.commit()
    bureau = make_user("bureau", [HONGKOU])
    analyst = make_user("analyst")
    db.session.commit()
    client = app.test_client()
    for user, districts, city in ((analyst, [HONGKOU, YANGPU], True), (bureau, [HONGKOU], False)):
        _, token = create_token(user.username)
        db.session.commit()
        body = client.get("/api/v1/waves/2025/plan",
                          headers={"Authorization": f"Bearer {token}"}).get_json()
        jsonschema.validate(body, {"$ref": "#/components/schemas/Plan",
                                   "components": openapi_document()["components"]})
        plan = body["plan"]
        assert [d["code"] for d in plan["districts"]] == districts
        assert (plan["city"] is not None) == city
        assert plan["method"] == "proportional" and plan["sample_design"] == "district_street"
    _, token = create_token(analyst.username)
    db.session.commit()
    none = client.get("/api/v1/waves/2024/plan", headers={"Authorization": f"Bearer {token}"})
    assert none.status_code == 200 and none.get_json()["plan"] is None
