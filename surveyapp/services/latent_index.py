"""The latent satisfaction index of a wave (analysis.latent_index), city-wide and by district.

Computed where the data allow: the questionnaire has an overall-satisfaction item and at
least two dimensions, and the area has at least ``MIN_RESPONSES`` responses (a PLS model of a
dozen items on fewer is too unstable to publish) and is not withheld by the disclosure policy.
Otherwise the area is listed with the reason.

Standard errors. The declared designs of waves (surveyapp.services.sample_design) are
linearisation designs with no replicate weights; linearising a PLS fit means differentiating
the iterative algorithm, so the index uses replicates of the wave's own design instead: Rao-Wu
bootstrap (``REPLICATES`` replicates, fixed seed so a report is reproducible) drawn within the
design's strata and PSUs, with the raking to the wave's margins redone on every replicate, and
the model refitted on each. A district's index uses the same replicates restricted to its rows.
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from analysis.latent_index import LatentIndex, latent_index
from analysis.replicate import ReplicateDesign
from surveyapp.models.survey import Wave
from surveyapp.questionnaires import Questionnaire
from surveyapp.services.disclosure import suppress_below
from surveyapp.services.wave_results import CITY, WaveResults, analyse_wave

MIN_RESPONSES = 100
REPLICATES = 200
SEED = 19038  # GB/T 19038: any fixed number keeps the reported standard errors reproducible
METHOD = "bootstrap"


@dataclass(frozen=True)
class WaveLatentIndex:
    """The latent index of each area (a district code or ``CITY``) that has one, and why the
    others have none (``unavailable``: area -> reason in Chinese / English). ``seconds``: the
    time the fits took."""

    wave: str
    questionnaire: str
    areas: dict[str, LatentIndex]
    unavailable: dict[str, str]
    replicates: int
    seconds: float
    dimension_names: dict[str, tuple[str, str]] = field(default_factory=dict)

    def as_dict(self, area: str) -> dict:
        """JSON-ready figures of ``area`` (``CITY`` for the city)."""
        out = {"wave": self.wave, "questionnaire": self.questionnaire,
               "area": "city" if area == CITY else area, "available": area in self.areas}
        if area not in self.areas:
            out["reason"] = self.unavailable.get(area, _reason("没有该区的答卷",
                                                               "no responses of this area"))
            return out
        result = self.areas[area]
        out.update({
            "index": _num(result.index), "se": _num(result.se), "ci_low": _num(result.ci_low),
            "ci_high": _num(result.ci_high), "level": result.level, "df": result.df,
            "overall_satisfaction": _num(result.overall),
            "overall_satisfaction_se": _num(result.overall_se),
            "r_squared": _num(result.r_squared), "n": result.n,
            "variance": f"{result.method} ({result.replicates} replicates, refitted)",
            "dimensions": [
                {"dimension": key, "name_zh": self.dimension_names.get(key, (key, key))[0],
                 "name_en": self.dimension_names.get(key, (key, key))[1],
                 **{column: _num(row[column]) for column in
                    ("importance", "importance_se", "weight", "weight_se", "impact", "impact_se",
                     "performance", "performance_se")},
                 "quadrant": row["quadrant"]}
                for key, row in result.dimensions.iterrows()],
            "items": [{"item": item, "dimension": row["block"], "weight": _num(row["acsi_weight"]),
                       "loading": _num(row["loading"])}
                      for item, row in result.fit.outer.iterrows()],
        })
        return out


def _num(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _reason(zh: str, en: str) -> str:
    return f"{zh} / {en}"


def model_of(questionnaire: Questionnaire) -> tuple[dict[str, list[str]], list[str]] | None:
    """dimension -> item score columns, and the overall item's column; None when the
    questionnaire cannot carry the model (no overall item, fewer than two dimensions)."""
    if questionnaire.overall_item is None:
        return None
    blocks = {d.id: [f"item_{i.id}" for i in questionnaire.items if i.dimension == d.id]
              for d in questionnaire.dimensions}
    blocks = {key: items for key, items in blocks.items() if items}
    return (blocks, ["overall"]) if len(blocks) >= 2 else None


def wave_latent_index(results: WaveResults, areas: list[str] | None = None,
                      suppress_below: int = 0,
                      replicate_design: Callable[[], ReplicateDesign] | None = None
                      ) -> WaveLatentIndex:
    """The index of ``areas`` (district codes and/or ``CITY``; default: the city and every
    district of the wave) from the analysed wave ``results``. ``replicate_design`` gives the
    replicates (default: built here, once, when a first area needs them)."""
    started = time.perf_counter()
    q = results.questionnaire
    areas = [CITY, *results.wave.districts] if areas is None else areas
    names = {d.id: (d.name.get("zh"), d.name.get("en")) for d in q.dimensions}
    model = model_of(q)
    if model is None or results.design is None:
        why = _reason("问卷没有总体满意度题或少于两个维度，无法建立结构方程模型",
                      "the questionnaire has no overall item or fewer than two dimensions")
        return WaveLatentIndex(results.wave.label, q.id, {}, dict.fromkeys(areas, why), 0,
                               0.0, names)
    blocks, overall = model
    frame = results.frame
    computed, unavailable = {}, {}
    replicates = None
    for area in areas:
        rows = (np.ones(len(frame), bool) if area == CITY
                else (frame["district"] == area).to_numpy())
        n = int((rows & frame["overall"].notna().to_numpy()).sum())
        if n < max(MIN_RESPONSES, suppress_below):
            unavailable[area] = _reason(
                f"有效答卷{n}份，少于{max(MIN_RESPONSES, suppress_below)}份，不计算潜变量指数",
                f"{n} responses, fewer than the {max(MIN_RESPONSES, suppress_below)} the latent "
                "index needs")
            continue
        if replicates is None:
            replicates = (replicate_design or (lambda: bootstrap_replicates(results)))()
        try:
            computed[area] = latent_index(frame, replicates, blocks, overall,
                                          domain=None if area == CITY else rows)
        except ValueError as exc:
            unavailable[area] = _reason("模型无法拟合", f"the model cannot be fitted ({exc})")
    return WaveLatentIndex(results.wave.label, q.id, computed, unavailable,
                           len(replicates.replicate_weights) if replicates is not None else 0,
                           time.perf_counter() - started, names)


def bootstrap_replicates(results: WaveResults) -> ReplicateDesign:
    """The replicates of the wave's weighted design (see the module docstring)."""
    return results.design.replicate(METHOD, replicates=REPLICATES, seed=SEED)


def area_latent_index(wave: Wave, district: str | None, margins: str | None = None) -> dict:
    """JSON-ready latent index of ``district`` (None: the city) in ``wave``, for the command
    line and the API. ``district`` must be one of the wave's (ValueError otherwise)."""
    known = [d.code for d in wave.districts]
    if district is not None and district not in known:
        raise ValueError("district: " + _reason(
            f"测评批次{wave.label}不包括{district}；可选：{', '.join(known)}",
            f"wave {wave.label} does not cover {district}; expected one of {', '.join(known)}"))
    area = district or CITY
    results = analyse_wave(wave, margins)
    return wave_latent_index(results, [area], suppress_below()).as_dict(area)


class LatentIndexCache:
    """The latent index of one analysed wave, computed per area when first asked for and kept:
    held by the cached report inputs, so a wave's 16 district reports and three formats fit
    each area once (and a report that is never built costs nothing)."""

    def __init__(self, results: WaveResults, suppress_below: int) -> None:
        self.results = results
        self.suppress_below = suppress_below
        self.applies = model_of(results.questionnaire) is not None and results.design is not None
        self._found: dict[str, WaveLatentIndex] = {}
        self._replicates: ReplicateDesign | None = None
        self._lock = threading.Lock()

    def area(self, area: str) -> WaveLatentIndex:
        with self._lock:
            if area not in self._found:
                self._found[area] = wave_latent_index(self.results, [area], self.suppress_below,
                                                      self._replicate_design)
            return self._found[area]

    def _replicate_design(self) -> ReplicateDesign:
        if self._replicates is None:
            self._replicates = bootstrap_replicates(self.results)
        return self._replicates
