"""Synthetic demo data: two yearly citizen waves, a sector wave and population margins.

The figures imitate published Shanghai results (scores mostly 75-95, varying by district,
dimension and year) but are invented. Respondents deliberately over-represent women and older
people, and older respondents are a little more satisfied, so weighting to the demo margins
visibly moves the estimates. Everything is drawn from one seeded generator: the same seed and
size give the same data.
"""
from __future__ import annotations

import uuid
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.localtime import from_local
from surveyapp.models.margins import MarginSet
from surveyapp.models.survey import Answer, District, QuestionnaireVersion, Response, Wave
from surveyapp.questionnaires import Demographic, Questionnaire
from surveyapp.services.catalog import questionnaire_of
from surveyapp.services.margins import MarginInput, rake_margins, store_margins
from surveyapp.services.waves import create_wave, latest_version

DEMO_MARGIN_SET = "demo-2024"
DEMO_MARGIN_DESCRIPTION = (
    "DEMO FIGURES, NOT OFFICIAL STATISTICS: invented adult resident counts by district x sex and "
    "district x age group, roughly proportional to the 2020 census district populations, for "
    "trying out weighting. 演示数据，非官方统计。"
)

# Approximate resident populations (2020 census, rounded); only their proportions matter.
DEMO_POPULATION = {
    "310101": 660_000, "310104": 1_110_000, "310105": 690_000, "310106": 980_000,
    "310107": 1_240_000, "310109": 760_000, "310110": 1_240_000, "310112": 2_650_000,
    "310113": 2_240_000, "310114": 1_830_000, "310115": 5_680_000, "310116": 820_000,
    "310117": 1_910_000, "310118": 1_270_000, "310120": 1_140_000, "310151": 630_000,
}
DEFAULT_POPULATION = 1_000_000  # a district of another city's geography file
ADULT_SHARE = 0.86
FEMALE_SHARE = 0.49  # of the population; the demo sample has about 62 %
FEMALE_SAMPLE_SHARE = 0.62
AGE_SKEW = 0.45  # sample odds of each older age group grow by exp(AGE_SKEW) per step

CITY_LEVEL = 84.0  # mean 0-100 score of the first wave
DIMENSION_SD = 2.0  # spread of dimension levels within a district
TREND_SD = 0.8  # dimensions of one district do not all move alike from year to year
ITEM_SD = 2.5  # spread of item levels within a dimension
OVERALL_LIFT = 1.0  # residents rate "overall" a little above the mean of the parts
RESPONDENT_SD = 7.0
STREET_SD = 1.5  # lasting differences between streets, which the small-area estimates show
ITEM_NOISE_SD = 9.0
DONT_KNOW_RATE = (0.01, 0.07)  # per item, drawn uniformly
SKIP_RATE = 0.03  # optional items and questions left blank
ENGLISH_SHARE = 0.06
COMMENT_SHARE = 0.12

COMMENTS = {  # (language, satisfied?) -> comments a resident might leave
    ("zh", False): ("小区停车太难，希望增加车位。", "办事窗口排队时间太长。", "公交班次太少，晚上等车很久。"),
    ("zh", True): ("社区服务很周到，谢谢！", "菜场的价格和质量都不错。", "政务服务一网通办很方便。"),
    ("en", False): ("Rubbish collection is often late on our street.",
                    "Too few buses in the evening.", "Hard to park near our compound."),
    ("en", True): ("The new park by the river is great.", "Online services save me a lot of time.",
                   "The community health centre is very helpful."),
}
COMMENT_SATISFIED_FROM = 75.0


@dataclass(frozen=True)
class DemoWave:
    """A demo wave to create: which questionnaire, its label and collection window."""

    questionnaire_key: str
    label: str
    opens_at: datetime
    closes_at: datetime
    year_index: int  # 0 for the first year; later years drift by the district's trend
    size_factor: float = 1.0  # share of the per-district size (sector waves are smaller)
    # Every street of every district is sampled: streets are strata inside the districts.
    sample_design: str = "district_street"
    lonely_psu: str = "adjust"


def demo_waves(now: datetime) -> tuple[DemoWave, ...]:
    """The 2023 and 2024 citizen waves and a smaller 2024 sector wave; 2024 stays open a year
    from ``now`` so that the demo's survey form can be tried. Waves open and close at midnight
    in the service's zone, as an office would set them. The citizen waves declare streets as
    strata inside districts (every street is covered); the sector wave declares streets as
    PSUs with the geography's street counts for the fpc, so the demo shows both designs."""
    open_2024 = from_local(datetime(2024, 9, 1))
    close_2024 = max(from_local(datetime(2024, 12, 1)), now + timedelta(days=365))
    return (
        DemoWave("citizen", "2023", from_local(datetime(2023, 9, 1)),
                 from_local(datetime(2023, 12, 1)), 0),
        DemoWave("citizen", "2024", open_2024, close_2024, 1),
        DemoWave("public_service", "2024", open_2024, close_2024, 1, size_factor=0.3,
                 sample_design="street_psu"),
    )


@dataclass(frozen=True)
class DemoDistrict:
    code: str
    streets: tuple[str, ...]


class DemoWorld:
    """The seeded 'truth' behind the demo: levels by district, dimension and year."""

    def __init__(self, seed: int, district_codes: Sequence[str]) -> None:
        self.seed = seed
        rng = np.random.default_rng([seed, 0])
        codes = list(district_codes)
        self.district_effect = dict(zip(codes, rng.normal(0.0, 2.5, len(codes))))
        trend = rng.normal(2.0, 0.8, len(codes))
        falling = rng.choice(len(codes), size=min(3, len(codes)), replace=False)
        trend[falling] = -rng.uniform(0.5, 2.0, len(falling))
        self.trend = dict(zip(codes, trend))

    def level(self, district: str, dimension: str, year_index: int) -> float:
        """Mean 0-100 score of a dimension in a district and year."""
        offset = self.draw(f"{district}/{dimension}", DIMENSION_SD)
        trend = self.trend[district] + self.draw(f"{district}/{dimension}/trend", TREND_SD)
        return CITY_LEVEL + self.district_effect[district] + offset + year_index * trend

    def draw(self, key: str, sd: float) -> float:
        """A fixed normal draw per key, so levels do not depend on generation order."""
        return float(np.random.default_rng([self.seed, zlib.crc32(key.encode())]).normal(0.0, sd))


def generate_wave(
    questionnaire: Questionnaire,
    wave: Wave,
    spec: DemoWave,
    districts: Sequence[DemoDistrict],
    world: DemoWorld,
    per_district: int | None,
    rng: np.random.Generator,
    progress: Callable[[int], object] = lambda n: None,
) -> tuple[list[dict], list[dict]]:
    """Response and answer rows (plain dicts, ready for bulk insert) for one wave."""
    responses: list[dict] = []
    answers: list[dict] = []
    for district in districts:
        size = per_district if per_district is not None else int(rng.integers(150, 301))
        size = max(1, round(size * spec.size_factor))
        district_rows, district_answers = _district_responses(
            questionnaire, wave, spec, district, world, size, rng
        )
        responses.extend(district_rows)
        answers.extend(district_answers)
        progress(1)
    return responses, answers


def _district_responses(
    questionnaire: Questionnaire,
    wave: Wave,
    spec: DemoWave,
    district: DemoDistrict,
    world: DemoWorld,
    size: int,
    rng: np.random.Generator,
) -> tuple[list[dict], list[dict]]:
    people = _demographics(questionnaire, district, size, rng)
    person_effect = (rng.normal(0.0, RESPONDENT_SD, size) + people.pop("_effect")
                     + _street_effects(questionnaire, people, world, size))
    ids = [str(uuid.UUID(bytes=rng.bytes(16), version=4)) for _ in range(size)]
    item_scores = _item_scores(questionnaire, district.code, spec, world, person_effect, rng)
    answers = _answer_rows(questionnaire, wave.id, ids, item_scores, rng)
    mean_score = np.nanmean(np.column_stack(list(item_scores.values())), axis=1)
    responses = _response_rows(questionnaire, wave, ids, people, mean_score, district, rng)
    return responses, answers


def _demographics(
    questionnaire: Questionnaire, district: DemoDistrict, size: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Skewed demographics plus each person's satisfaction shift ("_effect") from them."""
    people: dict[str, np.ndarray] = {"_effect": np.zeros(size)}
    for question in questionnaire.demographics:
        if question.kind == "district":
            people[question.id] = np.full(size, district.code, dtype=object)
        elif question.kind == "street":
            people[question.id] = _streets(district, size, rng)
        else:
            values = [choice.value for choice in question.choices]
            chosen = rng.choice(len(values), size, p=sample_shares(question))
            people[question.id] = np.array(values, dtype=object)[chosen]
            people["_effect"] += _satisfaction_shift(question, chosen)
            if not question.required:
                people[question.id][rng.random(size) < SKIP_RATE] = None
    return people


def _street_effects(questionnaire: Questionnaire, people: dict[str, np.ndarray],
                    world: DemoWorld, size: int) -> np.ndarray:
    """Each person's street's shift: a fixed draw per street, the same in every wave (the
    generator's stream is untouched, so the rest of the demo draws as before)."""
    question = next((q for q in questionnaire.demographics if q.kind == "street"), None)
    if question is None:
        return np.zeros(size)
    streets = people[question.id]
    shift = {code: world.draw(f"street/{code}", STREET_SD) for code in set(streets) if code}
    return np.array([shift.get(code, 0.0) for code in streets])


def _streets(district: DemoDistrict, size: int, rng: np.random.Generator) -> np.ndarray:
    """Streets unevenly but fully covered; None where the geography lists no streets."""
    if not district.streets:
        return np.full(size, None, dtype=object)
    shares = rng.dirichlet(np.full(len(district.streets), 4.0))
    return rng.choice(np.array(district.streets, dtype=object), size, p=shares)


def _satisfaction_shift(question: Demographic, chosen: np.ndarray) -> np.ndarray:
    """Older respondents and women are slightly more satisfied: the reason weighting matters."""
    if question.id == "age_group":
        return (chosen - (len(question.choices) - 1) / 2) * 1.5
    if question.id == "sex":
        return np.where(chosen == female_index(question), 1.0, -1.0)
    return np.zeros(len(chosen))


def female_index(question: Demographic) -> int:
    """Position of the 'female' choice of the sex question (by value or Chinese label)."""
    for index, choice in enumerate(question.choices):
        if choice.value.lower() in ("f", "female", "w", "woman") or choice.label.zh == "女":
            return index
    return 0


def population_shares(question: Demographic) -> np.ndarray:
    """Plausible population shares of a demographic's categories."""
    count = len(question.choices)
    if question.id == "sex":
        shares = np.full(count, (1 - FEMALE_SHARE) / max(count - 1, 1))
        shares[female_index(question)] = FEMALE_SHARE
        return shares
    if question.id == "age_group":
        # adult age bands: the youngest and oldest bands are the smallest
        shares = 1.0 + 0.6 * np.sin(np.linspace(0.3, np.pi - 0.5, count))
    else:
        # e.g. years of residence: the longer-standing categories are the larger ones
        shares = 1.0 + np.arange(count)
    return shares / shares.sum()


def sample_shares(question: Demographic) -> np.ndarray:
    """The demo sample's shares: too many women and too many older people."""
    shares = population_shares(question)
    if question.id == "sex":
        shares = np.full(len(shares), (1 - FEMALE_SAMPLE_SHARE) / max(len(shares) - 1, 1))
        shares[female_index(question)] = FEMALE_SAMPLE_SHARE
    elif question.id == "age_group":
        shares = shares * np.exp(AGE_SKEW * np.arange(len(shares)))
    return shares / shares.sum()


def _item_scores(
    questionnaire: Questionnaire,
    district: str,
    spec: DemoWave,
    world: DemoWorld,
    person_effect: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Latent 0-100 score of every item for every person, before rounding to the scale."""
    levels = {d.id: world.level(district, d.id, spec.year_index) for d in questionnaire.dimensions}
    overall = float(np.mean(list(levels.values()))) + OVERALL_LIFT
    scores = {}
    for item in questionnaire.items:
        if item.dimension is None:
            level, noise_sd = overall, ITEM_NOISE_SD / 2
        else:
            level = levels[item.dimension] + world.draw(f"item/{item.id}", ITEM_SD)
            noise_sd = ITEM_NOISE_SD
        noise = rng.normal(0.0, noise_sd, len(person_effect))
        scores[item.id] = np.clip(level + person_effect + noise, 0.0, 100.0)
    return scores


def _answer_rows(
    questionnaire: Questionnaire,
    wave_id: int,
    ids: list[str],
    item_scores: dict[str, np.ndarray],
    rng: np.random.Generator,
) -> list[dict]:
    """Round scores onto each item's scale; reverse items flip; some don't-know and blanks."""
    rows = []
    size = len(ids)
    for item in questionnaire.items:
        scale = questionnaire.scale_of(item.id)
        position = np.rint(item_scores[item.id] / 100.0 * (scale.high - scale.low)).astype(int)
        values = scale.high - position if item.reverse else scale.low + position
        values = values.astype(object)
        if scale.dont_know is not None:
            dont_know = rng.random(size) < rng.uniform(*DONT_KNOW_RATE)
            values[dont_know] = scale.dont_know.value
        if not item.required:
            values[rng.random(size) < SKIP_RATE] = None
        rows.extend(
            {"response_id": rid, "wave_id": wave_id, "item_id": item.id, "value": int(value)}
            for rid, value in zip(ids, values)
            if value is not None
        )
    return rows


def _response_rows(
    questionnaire: Questionnaire,
    wave: Wave,
    ids: list[str],
    people: dict[str, np.ndarray],
    mean_score: np.ndarray,
    district: DemoDistrict,
    rng: np.random.Generator,
) -> list[dict]:
    size = len(ids)
    window = (min(wave.closes_at, wave.opens_at + timedelta(days=75)) - wave.opens_at)
    offsets = rng.uniform(0.0, window.total_seconds(), size)
    durations = np.clip(rng.lognormal(np.log(260), 0.45, size), 60, 1800).astype(int)
    languages = np.where(rng.random(size) < ENGLISH_SHARE, "en", "zh")
    comments = _comments(questionnaire, languages, mean_score, rng)
    return [
        {
            "id": ids[i],
            "wave_id": wave.id,
            "questionnaire_hash": questionnaire.content_hash,
            "district_code": district.code,
            "street_code": _get(people, "street", i),
            "sex": _get(people, "sex", i),
            "age_group": _get(people, "age_group", i),
            "residence_years": _get(people, "residence_years", i),
            "comment": comments[i],
            "language": str(languages[i]),
            "channel": "demo",
            "submitted_at": wave.opens_at + timedelta(seconds=float(offsets[i])),
            "duration_seconds": int(durations[i]),
        }
        for i in range(size)
    ]


def _get(people: dict[str, np.ndarray], key: str, index: int) -> str | None:
    column = people.get(key)
    return None if column is None or column[index] is None else str(column[index])


def _comments(
    questionnaire: Questionnaire,
    languages: np.ndarray,
    mean_score: np.ndarray,
    rng: np.random.Generator,
) -> list[str | None]:
    """A few residents comment, in their language, in tune with how satisfied they are."""
    if questionnaire.comment is None:
        return [None] * len(mean_score)
    writes = rng.random(len(mean_score)) < COMMENT_SHARE
    picks = rng.integers(0, 3, len(mean_score))
    return [
        COMMENTS[(str(lang), bool(score >= COMMENT_SATISFIED_FROM))][pick][
            : questionnaire.comment.max_length
        ] if write else None
        for write, lang, score, pick in zip(writes, languages, mean_score, picks)
    ]


def demo_margin_rows(
    questionnaire: Questionnaire, district_codes: Sequence[str]
) -> list[MarginInput]:
    """District x sex and district x age-group counts whose district totals agree exactly."""
    rows = []
    for code in district_codes:
        adults = round(DEMO_POPULATION.get(code, DEFAULT_POPULATION) * ADULT_SHARE)
        for question in questionnaire.demographics:
            if question.id not in ("sex", "age_group"):
                continue
            counts = _split(adults, population_shares(question))
            rows.extend(
                MarginInput(code, question.id, choice.value, int(count))
                for choice, count in zip(question.choices, counts)
            )
    return rows


def _split(total: int, shares: np.ndarray) -> np.ndarray:
    """Integer counts in the given shares that add up to ``total`` exactly (largest remainder)."""
    raw = shares / shares.sum() * total
    counts = np.floor(raw).astype(int)
    remainder = total - counts.sum()
    counts[np.argsort(raw - counts)[::-1][:remainder]] += 1
    return counts


class DemoError(RuntimeError):
    """The shipped data cannot produce the demo (e.g. a questionnaire file is missing)."""


@dataclass(frozen=True)
class WaveOutcome:
    """What the demo did with one wave: 'created' (with ``responses``) or 'kept' as it was."""

    questionnaire_key: str
    label: str
    status: str
    responses: int


def demo_districts() -> list[DemoDistrict]:
    """Every district of the loaded geography with its streets, in code order."""
    districts = db.session.scalars(sa.select(District).order_by(District.code)).all()
    if not districts:
        raise DemoError("no districts are loaded; put a geography file under questionnaires/geography/")
    return [DemoDistrict(d.code, tuple(s.code for s in d.streets)) for d in districts]


def existing_wave(questionnaire_key: str, label: str) -> Wave | None:
    """The wave of that questionnaire with that label, if an earlier demo run made it."""
    return db.session.scalar(
        sa.select(Wave)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Wave.questionnaire_version_id)
        .where(QuestionnaireVersion.key == questionnaire_key, Wave.label == label)
        .limit(1)
    )


def build_demo_wave(
    spec: DemoWave,
    world: DemoWorld,
    districts: Sequence[DemoDistrict],
    per_district: int | None,
    rng: np.random.Generator,
    progress: Callable[[int], object] = lambda n: None,
) -> WaveOutcome:
    """Create one demo wave with its responses (flushed, not committed), unless it exists.

    ``progress`` is told of each district generated and of the bulk insert (districts + 1 steps).

    An existing wave is kept untouched, so running the demo twice never duplicates data and never
    destroys responses typed into the demo's open survey.
    """
    if existing_wave(spec.questionnaire_key, spec.label) is not None:
        progress(len(districts) + 1)
        return WaveOutcome(spec.questionnaire_key, spec.label, "kept", 0)
    version = latest_version(spec.questionnaire_key)
    if version is None:
        raise DemoError(f"questionnaire '{spec.questionnaire_key}' is not loaded; "
                        f"expected questionnaires/{spec.questionnaire_key}.yaml")
    questionnaire = questionnaire_of(version)
    wave = create_wave(spec.label, version, [d.code for d in districts],
                       spec.opens_at, spec.closes_at, sample_design=spec.sample_design,
                       lonely_psu=spec.lonely_psu)
    responses, answers = generate_wave(
        questionnaire, wave, spec, districts, world, per_district, rng, progress
    )
    db.session.execute(sa.insert(Response), responses)
    db.session.execute(sa.insert(Answer), answers)
    db.session.flush()
    progress(1)
    return WaveOutcome(spec.questionnaire_key, spec.label, "created", len(responses))


def ensure_demo_margins(districts: Sequence[DemoDistrict]) -> tuple[MarginSet, bool]:
    """The demo margin set, created (flushed) from the citizen questionnaire if it is missing."""
    stored = db.session.scalar(sa.select(MarginSet).where(MarginSet.name == DEMO_MARGIN_SET))
    if stored is not None:
        return stored, False
    version = latest_version("citizen")
    if version is None:
        raise DemoError("questionnaire 'citizen' is not loaded; expected questionnaires/citizen.yaml")
    rows = demo_margin_rows(questionnaire_of(version), [d.code for d in districts])
    margin_set, problems = store_margins(
        DEMO_MARGIN_SET, DEMO_MARGIN_DESCRIPTION, rows, questionnaire_of(version), is_demo=True
    )
    if margin_set is None:
        raise DemoError("demo margins are inconsistent: " + "; ".join(map(str, problems)))
    return margin_set, True


def pin_demo_waves(margin_set: MarginSet, now: datetime) -> list[str]:
    """Pin the demo's citizen waves that have no pin yet to the demo margin set (flushed), so
    the admin page shows pinned waves next to an automatic one; returns the labels pinned.

    Only the citizen waves (the demo margins are made from the citizen questionnaire), and only
    those with a respondent in every cell of the margins: a pinned set that cannot be raked to
    is an error, so a tiny demo (``--per-district``) leaves its waves automatic instead.
    """
    pinned = []
    for spec in demo_waves(now):
        if spec.questionnaire_key != "citizen":
            continue
        wave = db.session.scalar(
            sa.select(Wave).join(QuestionnaireVersion)
            .where(QuestionnaireVersion.key == spec.questionnaire_key, Wave.label == spec.label))
        if wave is not None and wave.margin_set_id is None and _every_cell_answered(
                wave, margin_set):
            wave.margin_set = margin_set
            pinned.append(spec.label)
    db.session.flush()
    return pinned


def _every_cell_answered(wave: Wave, margin_set: MarginSet) -> bool:
    """Whether the wave has a respondent in each district x category the set has people in."""
    for (_district, variable), cells in rake_margins(margin_set).items():
        column = getattr(Response, variable, None)
        if column is None:
            return False
        seen = {tuple(row) for row in db.session.execute(
            sa.select(Response.district_code, column).where(Response.wave_id == wave.id)
            .distinct())}
        if any(count > 0 and cell not in seen for cell, count in cells.items()):
            return False
    return True
