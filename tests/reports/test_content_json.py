"""A report's content survives the store: what a worker encodes, a web host decodes to the same
report (charts, times, optional sections), and content of another shape is refused."""
from __future__ import annotations

import dataclasses

import pytest

from surveyapp.reports.content_json import decode_report, encode_report
from surveyapp.reports.latent_section import LatentRow, LatentSection
from surveyapp.reports.model import Estimate
from surveyapp.reports.small_area import ModelFigure, SmallAreaRow, SmallAreaSection
from tests.reports.sample import sample_report


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("kind", ["district", "city"])
def test_a_report_decodes_to_the_report_encoded(lang, kind):
    report = sample_report(lang, kind)
    decoded = decode_report(encode_report(report))
    assert decoded == report
    assert decoded.charts[0].png == report.charts[0].png and decoded.charts[0].png
    assert decoded.generated_at.utcoffset() == report.generated_at.utcoffset()


def test_the_optional_sections_decode_too():
    street = SmallAreaRow("310109001", "Street 1", 12, None, "fewer than 30 responses",
                          ModelFigure(81.2, 1.5, 78.3, 84.1), None, "model-based (EBLUP)")
    direct = dataclasses.replace(street, code="310109002", direct=Estimate(80, 1, 78, 82, 40),
                                 direct_note=None, model=None, model_note="no model")
    latent = LatentSection(index=79.5, se=0.8, ci_low=77.9, ci_high=81.1, overall=78.0,
                           r_squared=0.61, n=400, replicates=50, chart_id="latent",
                           rows=(LatentRow("d1", "Service", 0.4, 0.05, 0.3, 0.2, 81.0, 1.1,
                                           "keep"),))
    report = dataclasses.replace(sample_report("en"), latent_index=latent,
                                 small_area=SmallAreaSection((street, direct), "a note"))
    assert decode_report(encode_report(report)) == report
    unavailable = dataclasses.replace(report, latent_index=LatentSection(unavailable="too few"))
    again = decode_report(encode_report(unavailable))  # NaN figures: compare the encodings
    assert encode_report(again) == encode_report(unavailable)
    assert again.latent_index.unavailable == "too few"


def test_content_of_another_shape_is_refused():
    with pytest.raises(ValueError, match="does not fit the report model"):
        decode_report(b'{"kind": "district"}')
