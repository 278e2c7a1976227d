"""Run an estimate spec on the stored responses, record it, and rerun a recorded run.

A run is reproducible: the responses are put in response-id order before anything is computed
(so floating-point sums come out the same whatever order the database returns), and the run
stores the canonical spec, a SHA-256 of exactly the responses used and a manifest of them, the
package version and the results. ``rerun`` recomputes and either confirms identical results or
says what changed in the data. Services flush; the caller commits.

Problems with the data a spec names are raised as in surveyapp.specs: the spec path first, as
written, then a message in the current language (gettext). Messages the analysis engine raises
(``EstimationError`` from its ValueError) stay in English.
"""
from __future__ import annotations

import binascii
import hashlib
import io
import json
import math
import os
import uuid
import warnings
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from flask_babel import gettext as _

from analysis.design import SurveyDesign
from analysis.diagnostics import trimmed_share, weight_diagnostics
from analysis.scoring import score
from analysis.trends import difference
from surveyapp.extensions import db
from surveyapp.models.margins import MarginSet
from surveyapp.models.quality import QualityFlag
from surveyapp.models.runs import EstimateRun, ResponseManifest
from surveyapp.models.survey import Response, Wave
from surveyapp.questionnaires import Questionnaire
from surveyapp.services import associations
from surveyapp.services.catalog import questionnaire_of
from surveyapp.services.margins import rake_margins
from surveyapp.services.sample_design import PreparedDesign, design_for_wave
from surveyapp.services.wave_snapshots import get_derived, put_derived, read_wave
from surveyapp.specs import EstimateSpec, Outcome, SpecError, spec_from_dict

# The columns whose values make a response "the same response" for the data hash: everything
# a spec can estimate, group or filter by (the raw answers are added per questionnaire).
FINGERPRINT_COLUMNS = ("response_id", "wave", "district", "street", "sex", "age_group",
                       "residence_years", "language", "channel", "duration_seconds")
RESULT_COLUMNS = ("wave", "outcome", "domain", "level", "estimate", "se", "ci_low", "ci_high",
                  "df", "deff", "n", "n_eff")
COMPARISON_COLUMNS = ("outcome", "domain", "level", "from_wave", "to_wave", "difference", "se",
                      "ci_low", "ci_high", "p_value", "significant")
ALL = "all"
Progress = Callable[[int], None]


class EstimationError(ValueError):
    """The spec is valid but cannot be carried out on these data; the message says why."""


@dataclass(frozen=True)
class WaveData:
    """One wave's responses after exclusions, scored, in response-id order.

    ``content_key``: the same key means the same frame (its snapshot's parts, scope and
    filters); None when it was not read from a snapshot.
    """

    wave: Wave
    questionnaire: Questionnaire
    frame: pd.DataFrame
    content_key: str | None = None


@dataclass(frozen=True)
class TargetColumn:
    """An expanded outcome: its display name, the frame column estimated, and how.

    ``quantile``: the probability of a quantile outcome; ``denominator``: the frame column a
    ratio outcome divides by.
    """

    name: str
    column: str
    proportion: bool = False
    quantile: float | None = None
    denominator: str | None = None


@dataclass
class EstimateOutcome:
    """What a run produced: results (JSON-ready), and the fingerprint of the data used."""

    results: dict
    data_hash: str
    manifest: bytes
    response_count: int
    waves: list[WaveData] = field(default_factory=list)

    @property
    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.results["estimates"], columns=list(RESULT_COLUMNS))

    @property
    def comparisons(self) -> pd.DataFrame:
        return pd.DataFrame(self.results["comparisons"], columns=list(COMPARISON_COLUMNS))


def package_version() -> str:
    try:
        return version("surveyapp")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


# ----------------------------------------------------------------------------- loading data


def find_waves(labels: Iterable[str], questionnaire_key: str | None = None) -> list[Wave]:
    """The waves with these labels (of that questionnaire, if given), or SpecError naming
    each unknown or ambiguous one."""
    problems, waves = [], []
    known = sorted(set(db.session.scalars(sa.select(Wave.label))))
    for i, label in enumerate(labels):
        matches = list(db.session.scalars(sa.select(Wave).where(Wave.label == label)))
        keys = sorted(w.questionnaire_version.key for w in matches)
        if questionnaire_key is not None:
            matches = [w for w in matches if w.questionnaire_version.key == questionnaire_key]
        if not matches and keys:
            problems.append("questionnaire: " + _(
                "wave %(label)r uses questionnaire %(keys)s, not %(wanted)r", label=label,
                keys=", ".join(map(repr, keys)), wanted=questionnaire_key))
        elif not matches:
            problems.append(f"waves[{i}]: " + _("unknown wave %(label)r; known waves: %(known)s",
                                                label=label, known=", ".join(known) or _("none")))
        elif len(matches) > 1:
            problems.append(f"waves[{i}]: " + _(
                "%(count)d waves are labelled %(label)r (%(keys)s); name one as questionnaire "
                "(--questionnaire)", count=len(matches), label=label, keys=", ".join(keys)))
        else:
            waves.append(matches[0])
    if problems:
        raise SpecError(problems)
    return waves


def load_wave(wave: Wave, *, districts: Iterable[str] | None = None, exclusions: str = "recorded",
              min_duration_seconds: float | None = None, include_comments: bool = False) -> WaveData:
    """A wave's responses after exclusions, with 0-100 scores, in response-id order.

    The responses come from the wave's columnar snapshot (surveyapp.services.wave_snapshots),
    brought up to date first, rather than from a pivot of the answer table.
    """
    questionnaire = questionnaire_of(wave.questionnaire_version)
    read = read_wave(wave, [item.id for item in questionnaire.items], districts=districts,
                     exclude_flagged=exclusions == "recorded", include_comments=include_comments)
    frame = read.frame
    if min_duration_seconds is not None:
        frame = frame[~(frame["duration_seconds"] < min_duration_seconds)]
    # a snapshot is sorted already (checking a million ids takes a quarter of a second)
    if read.key is None and not frame["response_id"].is_monotonic_increasing:
        frame = frame.sort_values("response_id", kind="stable")
    frame = frame.reset_index(drop=True)
    scores = score(frame[[item.id for item in questionnaire.items]],
                   questionnaire.to_scoring_spec())
    key = read.key and hashlib.sha256(f"{read.key} {min_duration_seconds!r}".encode()).hexdigest()
    return WaveData(wave, questionnaire, pd.concat([frame, scores], axis=1), key)


# ----------------------------------------------------------------------------- the design


def wave_design(data: WaveData, spec: EstimateSpec) -> PreparedDesign:
    """The wave's declared design on its responses, or the spec's own design when it gives one
    (checked against the data first). A design that does not fit the data: EstimationError."""
    frame, design_spec = data.frame, spec.design
    for key in ("strata", "psu"):
        variable = None if design_spec is None else getattr(design_spec, key)
        if variable is None:
            continue
        if variable not in frame.columns:
            raise SpecError([f"design.{key}: " + _("unknown variable %(name)r", name=variable)])
        missing = int(frame[variable].isna().sum())
        if missing:
            raise EstimationError(f"design.{key}: " + _(
                "%(count)d responses have no %(variable)s; set design.%(key)s to another variable "
                "or to null", count=missing, variable=variable, key=key))
    try:
        return design_for_wave(data.wave, frame, design_spec)
    except ValueError as exc:  # DesignError: names the wave, the stratum and what is expected
        raise EstimationError(str(exc)) from exc


def weighted_design(prepared: PreparedDesign, spec: EstimateSpec) -> tuple[SurveyDesign, dict]:
    """``prepared``'s design: weighting, then trimming, then replicates if asked.

    Returns the design and a JSON-ready note of the weighting (margins used, convergence).
    """
    weighting, frame = spec.weighting, prepared.frame
    try:
        design = prepared.survey_design()
        design, note = _apply_weighting(design, frame, spec)
        if weighting.trim_lower is not None or weighting.trim_upper is not None:
            mean = float(np.mean(design.weights))
            lower = -np.inf if weighting.trim_lower is None else weighting.trim_lower * mean
            upper = np.inf if weighting.trim_upper is None else weighting.trim_upper * mean
            share = trimmed_share(design.weights, lower, upper)
            design = design.trim(lower=lower, upper=upper)
            note["trim"] = {"lower": weighting.trim_lower, "upper": weighting.trim_upper,
                            "mean_weight_before": mean, "share_trimmed": share}
        if spec.variance.method != "taylor":  # replicates redo the weighting steps above
            design = design.replicate(spec.variance.method, replicates=spec.variance.replicates,
                                      seed=spec.variance.seed,
                                      fay_rho=spec.variance.fay_rho or 0.0)
    except ValueError as exc:
        if isinstance(exc, (SpecError, EstimationError)):
            raise
        raise EstimationError(str(exc)) from exc
    return design, note


def _apply_weighting(design: SurveyDesign, frame: pd.DataFrame, spec: EstimateSpec
                     ) -> tuple[SurveyDesign, dict]:
    weighting = spec.weighting
    if weighting.method == "none":
        return design, {"method": "none"}
    districts = set(frame["district"].unique())  # not set(column): a Python loop over 1M rows
    margins = margin_targets(weighting.margins, weighting.variables, districts)
    note = {"method": weighting.method, "margins": weighting.margins,
            "margins_digest": _margins_digest(margins), "variables": sorted(v for _key, v in margins)}
    if weighting.method == "poststratify":
        ((key, targets),) = margins.items()
        note["partial"] = weighting.partial
        return design.poststratify(key, targets, partial=weighting.partial), note
    if weighting.method == "calibrate":
        return _calibrate(design, frame, margins, weighting, note)
    with warnings.catch_warnings(record=True) as caught:  # non-convergence is reported, not raised
        warnings.simplefilter("always")
        raked = design.rake(margins, epsilon=weighting.epsilon, max_iter=weighting.max_iter)
    note.update(_rake_diagnostics(raked))
    if caught:
        note["warnings"] = [str(w.message) for w in caught]
    return raked, note


def _calibrate(design: SurveyDesign, frame: pd.DataFrame, margins: dict, weighting,
               note: dict) -> tuple[SurveyDesign, dict]:
    """Calibrate to the district x variable counts, one dummy per cell (R's ``calibrate``).

    The weights are first post-stratified to the district totals, so that the bounds are
    multiples of each district's expansion weight (population / respondents); each margin
    then becomes a key column of the frame (district and category joined), so that its
    cells are the categories of one calibration variable.
    """
    (district, _variable), first = next(iter(margins.items()))
    district_totals: dict = {}
    for cell, n in first.items():
        district_totals[cell[0]] = district_totals.get(cell[0], 0) + n
    design = design.poststratify(district, district_totals)
    totals = {}
    for (district, variable), targets in margins.items():
        key = f"{district} x {variable}"
        frame[key] = frame[district].astype(str) + " / " + frame[variable].astype(str)
        totals[key] = {f"{cell[0]} / {cell[1]}": n for cell, n in targets.items()}
    lower = -math.inf if weighting.bounds_lower is None else weighting.bounds_lower
    upper = math.inf if weighting.bounds_upper is None else weighting.bounds_upper
    calibrated = design.calibrate(totals, calfun=weighting.calfun, bounds=(lower, upper),
                                  max_iter=weighting.max_iter)
    g = calibrated.weights / design.weights
    note.update({"calfun": weighting.calfun, "bounds": {"lower": weighting.bounds_lower,
                                                        "upper": weighting.bounds_upper},
                 "g_min": float(g.min()), "g_max": float(g.max())})
    return calibrated, note


def margin_targets(name: str, variables: Iterable[str], districts: set[str]
                   ) -> dict[tuple[str, str], dict[tuple[str, str], int]]:
    """The named set's district x variable margins, for the districts present in the data.

    Districts are strata, so raking each district to its own margins does not depend on the
    others; limiting the targets to the districts present is what lets a bureau or a partial
    wave be weighted at all.
    """
    margin_set = db.session.scalar(sa.select(MarginSet).where(MarginSet.name == name))
    if margin_set is None:
        known = ", ".join(db.session.scalars(sa.select(MarginSet.name).order_by(MarginSet.name)))
        raise SpecError(["weighting.margins: " + _("unknown margin set %(name)r; known: %(known)s",
                                                   name=name, known=known or _("none"))])
    available = rake_margins(margin_set)
    wanted = list(variables) or [variable for _key, variable in available]
    problems, targets = [], {}
    for i, variable in enumerate(wanted):
        key = ("district", variable)
        if key not in available:
            problems.append(f"weighting.variables[{i}]: " + _(
                "margin set %(name)r has no district x %(variable)r margin; it has: %(known)s",
                name=name, variable=variable,
                known=", ".join(v for _key, v in available) or _("none")))
            continue
        targets[key] = {cell: n for cell, n in available[key].items() if cell[0] in districts}
        uncovered = sorted(districts - {cell[0] for cell in targets[key]})
        if uncovered:
            problems.append("weighting.margins: " + _(
                "margin set %(name)r has no %(variable)s counts for district(s) %(districts)s",
                name=name, variable=variable, districts=", ".join(uncovered)))
    if problems:
        raise SpecError(problems)
    return targets


def _rake_diagnostics(design: SurveyDesign) -> dict:
    info = design.rake_info
    if info is None:
        return {}
    return {"converged": bool(info.converged), "iterations": int(info.iterations),
            "misfit": float(info.misfit)}


# ----------------------------------------------------------------------------- estimating


def expand_outcomes(outcomes: Iterable[Outcome], questionnaire: Questionnaire, frame: pd.DataFrame
                    ) -> list[TargetColumn]:
    """Each outcome as a frame column (adding 0/1 columns for proportions) or SpecError."""
    problems: list[str] = []
    targets: list[TargetColumn] = []
    for i, outcome in enumerate(outcomes):
        path = f"outcomes[{i}]"
        if outcome.kind == "dimensions":
            targets += [TargetColumn(f"dimension:{d.id}", f"dim_{d.id}")
                        for d in questionnaire.dimensions]
        elif outcome.kind == "items":
            targets += [TargetColumn(f"item:{item.id}", f"item_{item.id}")
                        for item in questionnaire.items]
        elif outcome.kind == "proportion":
            target = _proportion_column(outcome, questionnaire, frame, path, problems)
            if target:
                targets.append(target)
        elif outcome.kind in ("quantile", "ratio"):
            target = _statistic_column(outcome, questionnaire, path, problems)
            if target:
                targets.append(target)
        else:
            column = _score_column(outcome.kind if outcome.target is None else
                                   f"{outcome.kind}:{outcome.target}", questionnaire)
            if column is None:
                problems.append(f"{path}.{outcome.kind}: " + _not_in_questionnaire(
                    outcome.kind, outcome.target, questionnaire.id))
            else:
                targets.append(TargetColumn(
                    outcome.kind if outcome.target is None else f"{outcome.kind}:{outcome.target}",
                    column))
    if problems:
        raise SpecError(problems)
    return targets


def _not_in_questionnaire(kind: str, target: str | None, questionnaire: str) -> str:
    if kind == "dimension":
        return _("%(target)r is not a dimension of questionnaire %(questionnaire)r",
                 target=target, questionnaire=questionnaire)
    return _("%(target)r is not an item of questionnaire %(questionnaire)r", target=target,
             questionnaire=questionnaire)


def _score_column(target: str, questionnaire: Questionnaire) -> str | None:
    if target in ("index", "overall"):
        return target
    kind, _colon, name = target.partition(":")
    if kind == "dimension" and name in {d.id for d in questionnaire.dimensions}:
        return f"dim_{name}"
    if kind == "item" and name in {item.id for item in questionnaire.items}:
        return f"item_{name}"
    return None


def _statistic_column(outcome: Outcome, questionnaire: Questionnaire, path: str,
                      problems: list[str]) -> TargetColumn | None:
    """A quantile or ratio outcome as its score column(s), or a problem at its path."""
    column = _score_column(outcome.target, questionnaire)
    denominator = (None if outcome.denominator is None
                   else _score_column(outcome.denominator, questionnaire))
    for key, target, found in ((outcome.kind, outcome.target, column),
                               ("denominator", outcome.denominator, denominator)):
        if target is not None and found is None:
            problems.append(f"{path}.{key}: " + _(
                "%(target)r is not a score of questionnaire %(questionnaire)r",
                target=target, questionnaire=questionnaire.id))
    if column is None or (outcome.denominator is not None and denominator is None):
        return None
    return TargetColumn(outcome.name, column, quantile=outcome.p, denominator=denominator)


def _proportion_column(outcome: Outcome, questionnaire: Questionnaire, frame: pd.DataFrame,
                       path: str, problems: list[str]) -> TargetColumn | None:
    column = _score_column(outcome.target, questionnaire)
    if column is None:
        problems.append(f"{path}.proportion: " + _(
            "%(target)r is not a score of questionnaire %(questionnaire)r",
            target=outcome.target, questionnaire=questionnaire.id))
        return None
    scores = frame[column]
    if outcome.band is not None:
        band = next((b for b in questionnaire.bands
                     if outcome.band.casefold() in (b.label.zh.casefold(), b.label.en.casefold())),
                    None)
        if band is None:
            labels = ", ".join(f"{b.label.zh} / {b.label.en}" for b in questionnaire.bands)
            problems.append(f"{path}.band: " + _(
                "unknown band %(band)r; expected one of %(labels)s (Chinese or English)",
                band=outcome.band, labels=labels))
            return None
        inside = ((scores >= band.lower) & (scores < band.upper)) | (
            (scores == band.upper) & (band.upper == 100))
    else:
        inside = scores >= outcome.at_least
    frame[outcome.name] = inside.astype(float).where(scores.notna())
    return TargetColumn(outcome.name, outcome.name, proportion=True)


def domain_designs(prepared: PreparedDesign, design: SurveyDesign, domains: Iterable[str],
                   spec: EstimateSpec) -> dict[str | None, SurveyDesign]:
    """The design of the whole wave (key None) and of each domain: ``design`` itself, except
    for a domain that is the first-stage PSU (a street under "street_psu"), which gets its own
    within-PSU design, weighted the same way (see surveyapp.services.sample_design)."""
    designs: dict[str | None, SurveyDesign] = {None: design}
    for domain in domains:
        try:
            local = prepared.for_domain(domain)
        except ValueError as exc:  # DesignError: a street of one response under "fail"
            raise EstimationError(f"domains: {domain}: {exc}") from exc
        designs[domain] = design if local is prepared else weighted_design(local, spec)[0]
    return designs


#: Tables estimated side by side: numpy's grouped sums and arithmetic release the GIL, so the
#: tables of a wave (each independent of the others) share the machine's cores.
TABLE_THREADS = min(4, os.cpu_count() or 1)


def estimate_wave(designs: dict[str | None, SurveyDesign], label: str,
                  targets: list[TargetColumn], domains: Iterable[str], spec: EstimateSpec,
                  progress: Progress | None = None) -> list[dict]:
    """Every target for the whole wave and by each domain, as result rows; ``designs`` as
    ``domain_designs`` gives them. The tables are computed on ``TABLE_THREADS`` threads (each
    the same numbers as alone: nothing is shared but read-only designs and their caches) and
    reported in order; the first table that fails stops the rest."""
    tables = [(target, domain) for target in targets for domain in (None, *domains)]
    pool = ThreadPoolExecutor(max_workers=max(1, min(TABLE_THREADS, len(tables))))
    rows = []
    try:
        futures = [pool.submit(_estimate, designs[domain], target, domain, spec)
                   for target, domain in tables]
        for (target, domain), future in zip(tables, futures):
            table = future.result()
            # the rows of table.values, as iterrows gives them (one dtype for all the columns:
            # n is a float there) without building a Series per level (217 a street table)
            where = [table.columns.get_loc(k) for k in RESULT_COLUMNS[4:]]
            for level, values in zip(table.index, table.values):
                rows.append({"wave": label, "outcome": target.name, "domain": domain or ALL,
                             "level": ALL if domain is None else str(level),
                             **{k: _number(values[i]) for k, i in zip(RESULT_COLUMNS[4:], where)}})
            if progress:
                progress(1)
    finally:
        pool.shutdown(cancel_futures=True)
    return rows


def _estimate(design: SurveyDesign, target: TargetColumn, domain: str | None,
              spec: EstimateSpec) -> pd.DataFrame:
    interval = spec.interval
    try:
        if target.proportion:
            result = design.proportion(target.column, 1.0, by=domain, ci=interval.method,
                                       method=interval.proportion_method, level=interval.level)
        elif target.quantile is not None:
            result = design.quantile(target.column, target.quantile, by=domain,
                                     ci=interval.method, level=interval.level)
        elif target.denominator is not None:
            result = design.ratio(target.column, target.denominator, by=domain,
                                  ci=interval.method, level=interval.level)
        else:
            result = design.mean(target.column, by=domain, level=interval.level,
                                 ci=interval.method)
    except ValueError as exc:
        where = f" by {domain}" if domain else ""
        raise EstimationError(f"{target.name}{where}: {exc}") from exc
    if isinstance(result, pd.DataFrame):
        return result
    return pd.DataFrame([{k: getattr(result, k) for k in RESULT_COLUMNS[4:]}], index=[ALL])


def _number(value) -> float | int | None:
    """JSON-safe: NaN/inf become null; integers stay integers."""
    if value is None:
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    value = float(value)
    return value if math.isfinite(value) else None


def compare_waves(rows: list[dict], spec: EstimateSpec) -> list[dict]:
    """Each comparison (later minus earlier wave, independent samples) for every outcome and
    domain level both waves estimated."""
    table = pd.DataFrame(rows, columns=list(RESULT_COLUMNS)).astype(
        {"estimate": float, "se": float, "df": float})
    table = table[np.isfinite(table["estimate"]) & np.isfinite(table["se"])]
    keys = ["outcome", "domain", "level"]
    result = []
    for comparison in spec.comparisons:
        before = table[table["wave"] == comparison.from_wave].set_index(keys)
        after = table[table["wave"] == comparison.to_wave].set_index(keys)
        if before.empty or after.empty:
            continue
        change = difference(after, before, level=spec.interval.level, ci=spec.interval.method)
        for (outcome, domain, level), values in change.iterrows():
            result.append({"outcome": outcome, "domain": domain, "level": level,
                           "from_wave": comparison.from_wave, "to_wave": comparison.to_wave,
                           "difference": _number(values["estimate"]),
                           **{k: _number(values[k]) for k in ("se", "ci_low", "ci_high",
                                                              "p_value")},
                           "significant": bool(values["significant"])})
    return result


# ----------------------------------------------------------------------------- fingerprints


#: Responses written to canonical text at a time: the text, its lines and the integer copy of a
#: million responses at once took ~450 MB on top of the frame (the estimate's peak).
FINGERPRINT_ROWS = 1 << 17


def fingerprint(waves: Iterable[WaveData]) -> tuple[str, bytes, int]:
    """SHA-256 over the responses used, in response-id order, and a per-response manifest.

    Each response is written as one canonical CSV line (its id, wave, demographics, duration
    and raw answers); the hash covers all lines, the manifest pairs each id with a digest of
    its line so that a rerun can name added, dropped and edited responses. Written
    ``FINGERPRINT_ROWS`` at a time; the bytes are those of the whole wave's text at once
    (a line break inside a quoted value shifts the digests exactly as it did then).
    """
    whole = hashlib.sha256()
    manifest = []
    count = 0
    for data in waves:
        items = sorted(item.id for item in data.questionnaire.items)
        columns = [*FINGERPRINT_COLUMNS, *items]
        integers = dict.fromkeys(["duration_seconds", *items], "Int64")  # exact, fast text
        frame, digests, ids = data.frame, [], []
        for start in range(0, max(len(frame), 1), FINGERPRINT_ROWS):  # response-id order
            canonical = frame.iloc[start:start + FINGERPRINT_ROWS][columns].astype(integers)
            text = _canonical_csv(canonical)
            if start:
                text = text.partition(b"\n")[2]  # the header once per wave
            whole.update(text)
            lines = text.split(b"\n")[0 if start else 1:-1]  # each line ends with a break
            digests += [hashlib.blake2b(line, digest_size=8).digest() for line in lines]
            ids.append(_uuid_bytes(canonical["response_id"]))
        pairs = np.hstack([np.concatenate(ids).reshape(-1, 16),
                           np.frombuffer(b"".join(digests[:len(frame)]), np.uint8).reshape(-1, 8)])
        manifest.append(pairs.tobytes())
        count += len(frame)
    # level 1: ids and digests are random bytes, which no level shrinks (6 took 7 s per 1M)
    return whole.hexdigest(), zlib.compress(b"".join(manifest), 1), count


# A fingerprint kept beside a snapshot is valid for this code only (it defines the fingerprint).
_FINGERPRINT_CODE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def cached_fingerprint(waves: list[WaveData]) -> tuple[str, bytes, int]:
    """``fingerprint(waves)``, kept beside the first wave's snapshot for the next run on the
    same frames: a million responses take seconds to fingerprint and their snapshot parts
    never change (surveyapp.services.wave_snapshots). Frames not read from a snapshot are
    fingerprinted each time."""
    if not waves or any(data.content_key is None for data in waves):
        return fingerprint(waves)
    name = "fingerprint-" + hashlib.sha256(" ".join(
        [_FINGERPRINT_CODE, *(data.content_key for data in waves)]).encode()).hexdigest()
    kept = get_derived(waves[0].wave, name)
    rows = sum(len(data.frame) for data in waves)
    if kept is not None and int.from_bytes(kept[64:72], "big") == rows:
        return kept[:64].decode(), kept[72:], rows
    data_hash, manifest, count = fingerprint(waves)
    put_derived(waves[0].wave, name, data_hash.encode() + count.to_bytes(8, "big") + manifest)
    return data_hash, manifest, count


def _canonical_csv(frame: pd.DataFrame) -> bytes:
    """``frame.to_csv(index=False, lineterminator="\\n")`` as UTF-8, the text reruns compare.

    Arrow writes it 5x faster when no value needs quoting (the usual case: codes and numbers);
    whatever needs quoting goes through pandas, whose quoting the stored hashes follow.
    """
    if not any(c in name for name in frame.columns for c in ',"\r\n'):
        body = io.BytesIO()
        try:
            pa_csv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), body,
                             pa_csv.WriteOptions(include_header=False, quoting_style="none"))
        except pa.ArrowInvalid:  # a value with a comma, quote or line break
            pass
        else:
            return ",".join(frame.columns).encode() + b"\n" + body.getvalue()
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _uuid_bytes(ids: pd.Series) -> np.ndarray:
    """``uuid.UUID(id).bytes`` of every id, concatenated, as uint8: one hex decoding of all
    canonical ids at once (Arrow strips the hyphens), else one ``uuid.UUID`` per id."""
    digits = pa.array(ids, pa.large_string())
    if isinstance(digits, pa.ChunkedArray):
        digits = digits.combine_chunks()
    digits = pc.replace_substring(digits, "-", "")
    if len(ids) and not digits.null_count and pc.min_max(pc.utf8_length(digits)).as_py() == {
            "min": 32, "max": 32}:
        offsets = np.frombuffer(digits.buffers()[1], np.int64)[digits.offset:]
        text = digits.buffers()[2].to_pybytes()[offsets[0]:offsets[len(ids)]]
        try:
            return np.frombuffer(binascii.unhexlify(text), np.uint8)
        except binascii.Error:
            pass
    return np.frombuffer(b"".join(uuid.UUID(i).bytes for i in ids), np.uint8)


def read_manifest(blob: bytes) -> dict[str, bytes]:
    """Response id -> content digest, as stored by :func:`fingerprint`."""
    raw = zlib.decompress(blob)
    return {str(uuid.UUID(bytes=raw[i:i + 16])): raw[i + 16:i + 24] for i in range(0, len(raw), 24)}


def _margins_digest(margins: dict) -> str:
    cells = sorted([list(key), sorted([list(cell), n] for cell, n in targets.items())]
                   for key, targets in margins.items())
    return hashlib.sha256(json.dumps(cells).encode()).hexdigest()


# ----------------------------------------------------------------------------- running


def run_spec(spec: EstimateSpec, *, districts: Iterable[str] | None = None,
             progress: Progress | None = None, on_total: Callable[[int], None] | None = None
             ) -> EstimateOutcome:
    """Estimate ``spec`` on the stored responses (of ``districts`` only, for a bureau user)."""
    scope = None if districts is None else sorted(districts)
    waves = [load_wave(wave, districts=scope, exclusions=spec.exclusions.policy,
                       min_duration_seconds=spec.exclusions.min_duration_seconds)
             for wave in find_waves(spec.waves, spec.questionnaire)]
    rows, notes = [], {}
    plans = []
    for data in waves:
        if data.frame.empty:
            raise EstimationError("waves: " + _(
                "wave %(label)r has no responses to estimate (after exclusions and district "
                "scope)", label=data.wave.label))
        _check_domains(spec.domains, data.frame)
        targets = expand_outcomes(spec.outcomes, data.questionnaire, data.frame)
        plans.append((data, targets))
    if on_total:
        on_total(sum(len(t) * (1 + len(spec.domains)) for _data, t in plans))
    regressions, crosstabs = [], []
    for data, targets in plans:
        prepared = wave_design(data, spec)
        design, note = weighted_design(prepared, spec)
        share = note.get("trim", {}).get("share_trimmed")
        notes[data.wave.label] = {"responses": len(data.frame), "weighting": note,
                                  "design": prepared.note(),
                                  "questionnaire_hash": data.questionnaire.content_hash,
                                  "weights": weight_diagnostics(design.weights, share).to_dict()}
        designs = domain_designs(prepared, design, spec.domains, spec)
        rows += estimate_wave(designs, data.wave.label, targets, spec.domains, spec, progress)
        regressions += associations.regressions(design, data.questionnaire, data.wave.label,
                                                spec, EstimationError)
        crosstabs += associations.crosstabs(data.frame, design, data.questionnaire,
                                            data.wave.label, spec, EstimationError)
    data_hash, manifest, count = cached_fingerprint(waves)
    results = {"estimates": rows, "comparisons": compare_waves(rows, spec), "waves": notes,
               "districts": scope, "regressions": regressions, "crosstabs": crosstabs}
    return EstimateOutcome(results, data_hash, manifest, count, waves)


def _check_domains(domains: Iterable[str], frame: pd.DataFrame) -> None:
    allowed = [c for c in ("district", "street", "sex", "age_group", "residence_years",
                           "language", "channel") if c in frame.columns]
    problems = [f"domains[{i}]: " + _("unknown variable %(name)r; expected one of %(allowed)s",
                                      name=d, allowed=", ".join(allowed))
                for i, d in enumerate(domains) if d not in allowed]
    if problems:
        raise SpecError(problems)


def record_run(spec: EstimateSpec, outcome: EstimateOutcome, *, created_by: str,
               user_id: int | None = None) -> EstimateRun:
    """Store the run (flushed, not committed) so it can be listed, downloaded and rerun."""
    districts = outcome.results["districts"]
    _keep_manifest(outcome.data_hash, outcome.manifest)
    run = EstimateRun(spec_json=spec.to_json(),
                      districts_json=None if districts is None else json.dumps(districts),
                      data_hash=outcome.data_hash, response_count=outcome.response_count,
                      package_version=package_version(),
                      results_json=results_text(outcome.results), created_by=created_by,
                      user_id=user_id)
    db.session.add(run)
    db.session.flush()
    return run


def _keep_manifest(data_hash: str, manifest: bytes) -> None:
    """Store the manifest of ``data_hash`` unless it is stored: asked first, so that a rerun on
    unchanged data sends no 24 MB; a run recording the same data at the same moment makes the
    insert do nothing (it waits for that run's transaction, then finds its row)."""
    table = ResponseManifest.__table__
    if db.session.scalar(sa.select(sa.literal(1)).where(table.c.data_hash == data_hash)):
        return
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    db.session.execute(insert.values(data_hash=data_hash, manifest=manifest)
                       .on_conflict_do_nothing(index_elements=[table.c.data_hash]))


def results_text(results: dict) -> str:
    """Results as JSON; floats are written with repr, so reading them back is exact."""
    return json.dumps(results, sort_keys=True, ensure_ascii=False)


def run_spec_of(run: EstimateRun) -> EstimateSpec:
    return spec_from_dict(json.loads(run.spec_json), source_name=f"run {run.id}")


@dataclass(frozen=True)
class RerunReport:
    """The outcome of rerunning a recorded run."""

    run: EstimateRun
    outcome: EstimateOutcome
    identical: bool
    data_changes: list[str]
    result_changes: list[str]

    def summary(self) -> str:
        if self.identical:
            return _("run %(id)d: identical results on identical data (%(count)d responses, "
                     "data hash %(hash)s)", id=self.run.id, count=self.run.response_count,
                     hash=self.run.data_hash[:12])
        lines = [_("run %(id)d: results differ", id=self.run.id)]
        lines += ["  " + _("data: %(change)s", change=change) for change in self.data_changes
                  ] or ["  " + _("data: unchanged (same data hash)")]
        lines += [f"  {change}" for change in self.result_changes]
        return "\n".join(lines)


def rerun(run: EstimateRun, progress: Progress | None = None,
          on_total: Callable[[int], None] | None = None,
          shown: Callable[[dict], dict] | None = None) -> RerunReport:
    """Recompute a recorded run with its own spec and scope; compare data and results.

    ``shown`` gives the results as the reader may see them (a bureau's are suppressed): the
    changes listed are those between the recorded and the new results as shown."""
    districts = None if run.districts_json is None else json.loads(run.districts_json)
    outcome = run_spec(run_spec_of(run), districts=districts, progress=progress, on_total=on_total)
    data_changes = [] if outcome.data_hash == run.data_hash else describe_data_changes(
        read_manifest(run.response_manifest), read_manifest(outcome.manifest))
    shown = shown or (lambda results: results)
    result_changes = describe_result_changes(shown(json.loads(run.results_json)),
                                             shown(outcome.results))
    if run.package_version != package_version() and result_changes:
        result_changes.insert(0, _("package version %(before)s -> %(after)s",
                                   before=run.package_version, after=package_version()))
    identical = not data_changes and results_text(outcome.results) == run.results_json
    return RerunReport(run, outcome, identical, data_changes, result_changes)


def describe_data_changes(before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    """Say which responses were added, excluded, removed or edited since a run."""
    added = sorted(set(after) - set(before))
    dropped = sorted(set(before) - set(after))
    edited = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    excluded = set(_excluded_ids(dropped))
    present = set(_existing_ids(dropped))
    changes = []
    if added:
        changes.append(_("%(count)d responses added since the run", count=len(added)))
    if excluded:
        changes.append(_("%(count)d responses excluded since the run", count=len(excluded)))
    if present - excluded:
        changes.append(_("%(count)d responses no longer selected (e.g. outside the run's "
                         "districts or exclusion rule)", count=len(present - excluded)))
    if set(dropped) - present:
        changes.append(_("%(count)d responses deleted since the run",
                         count=len(set(dropped) - present)))
    if edited:
        changes.append(_("%(count)d responses changed since the run", count=len(edited)))
    return changes


def _excluded_ids(ids: list[str]) -> list[str]:
    found: list[str] = []
    for start in range(0, len(ids), 500):
        found += db.session.scalars(sa.select(QualityFlag.response_id).where(
            QualityFlag.excluded, QualityFlag.response_id.in_(ids[start:start + 500])))
    return found


def _existing_ids(ids: list[str]) -> list[str]:
    found: list[str] = []
    for start in range(0, len(ids), 500):
        found += db.session.scalars(sa.select(Response.id).where(
            Response.id.in_(ids[start:start + 500])))
    return found


def describe_result_changes(before: dict, after: dict, limit: int = 10) -> list[str]:
    """The estimates whose value differs, at most ``limit`` of them named."""
    key = ("wave", "outcome", "domain", "level")
    old = {tuple(r[k] for k in key): r for r in before["estimates"]}
    new = {tuple(r[k] for k in key): r for r in after["estimates"]}
    changes = []
    for cell in sorted(set(old) | set(new)):
        name = "/".join(cell)
        if cell not in old:
            changes.append(_("%(cell)s: new", cell=name))
        elif cell not in new:
            changes.append(_("%(cell)s: gone", cell=name))
        elif old[cell] != new[cell]:
            changes.append(_("%(cell)s: estimate %(before)s -> %(after)s, n %(n_before)s -> "
                             "%(n_after)s", cell=name, before=repr(old[cell]["estimate"]),
                             after=repr(new[cell]["estimate"]), n_before=old[cell]["n"],
                             n_after=new[cell]["n"]))
    if len(changes) > limit:
        changes = changes[:limit] + [_("... and %(count)d more", count=len(changes) - limit)]
    return changes

