"""What an export holds: each variable's name, label and value labels, and the survey design.

Labels come in Chinese, English or both ("虹口区 / Hongkou"), from the questionnaire (items,
scales, demographics), the geography (district and street names) and the fixed texts below.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

LANGUAGES = ("zh", "en", "both")

# Variables every export has, with their (zh, en) labels; items and dimensions are added from
# the questionnaire.
FIXED_LABELS: dict[str, tuple[str, str]] = {
    "response_id": ("答卷编号", "Response ID"),
    "wave": ("调查轮次", "Survey wave"),
    "district": ("区", "District"),
    "street": ("街道/镇", "Street or town"),
    "sex": ("性别", "Sex"),
    "age_group": ("年龄组", "Age group"),
    "residence_years": ("居住年限", "Years of residence"),
    "language": ("答卷语言", "Language of the answers"),
    "channel": ("答卷渠道", "Collection channel"),
    "submitted_at": ("提交时间 (UTC)", "Submitted at (UTC)"),
    "duration_seconds": ("答卷用时（秒）", "Time to complete (seconds)"),
    "index": ("满意度指数 (0-100)", "Satisfaction index (0-100)"),
    "overall": ("总体满意度得分 (0-100)", "Overall satisfaction score (0-100)"),
    "weight": ("最终权重", "Final weight"),
    "comment": ("意见建议（自由文本）", "Comment (free text)"),
    "district_street": ("抽样层：区/街道", "Design stratum: district/street"),
    "streets_in_district": ("区内街道总数（有限总体校正）", "Streets in the district (fpc)"),
}
FIXED_VALUE_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "language": {"zh": ("中文", "Chinese"), "en": ("英文", "English")},
    "channel": {"web": ("网页", "Web link"), "invitation": ("邀请码", "Invitation code"),
                "demo": ("演示数据", "Demo data")},
}
CATEGORY_COLUMNS = ("wave", "district", "street", "sex", "age_group", "residence_years",
                    "language", "channel")
TEXT_COLUMNS = ("response_id", "comment", "district_street")


def bilingual(zh: str, en: str, lang: str) -> str:
    """The label in the chosen language; 'both' gives "中文 / English"."""
    if lang == "zh":
        return zh
    if lang == "en":
        return en
    return zh if zh == en else f"{zh} / {en}"


@dataclass(frozen=True)
class Variable:
    """One exported column. ``kind``: 'text', 'category' (string codes), 'number' or 'datetime'.

    ``value_labels`` maps a stored value (a string code for categories, an integer for numbers)
    to its label.
    """

    name: str
    label: str
    kind: str
    value_labels: Mapping[Any, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Codebook:
    """The variables in order, and the design variables the R snippet passes to svydesign:
    the wave's declared design (surveyapp.services.sample_design). ``psu`` and ``fpc`` name
    one column per stage; ``street_strata``, when set, is the strata of the design for
    estimates by street (responses as units: the street is never the PSU there)."""

    variables: tuple[Variable, ...]
    title: str
    weights: str | None = "weight"
    strata: str | None = "district"
    psu: str | tuple[str, ...] | None = "street"
    fpc: tuple[str, ...] = ()
    lonely_psu: str = "fail"
    street_strata: str | None = None

    @property
    def domain(self) -> str | None:
        """The variable snippets estimate by: district when the data have it, else the strata."""
        return "district" if "district" in self.names else self.strata

    @property
    def psu_stages(self) -> tuple[str, ...]:
        if self.psu is None:
            return ()
        return (self.psu,) if isinstance(self.psu, str) else tuple(self.psu)

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variables]

    def variable(self, name: str) -> Variable:
        return next(v for v in self.variables if v.name == name)


def build_codebook(questionnaire, columns: list[str],
                   places: Mapping[str, Mapping[str, tuple[str, str]]],
                   lang: str = "both", *, title: str = "", strata: str | None = "district",
                   psu: str | tuple[str, ...] | None = "street", fpc: tuple[str, ...] = (),
                   lonely_psu: str = "fail", street_strata: str | None = None) -> Codebook:
    """Label ``columns`` (a load_responses frame's columns, in order) from the questionnaire.

    ``places`` maps "district" and "street" to {code: (zh name, en name)}. Columns the codebook
    cannot label (an unknown item, say) keep their name as label rather than being dropped.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"lang: expected one of {', '.join(LANGUAGES)}; got {lang!r}")
    labels = _questionnaire_labels(questionnaire, lang)
    variables = []
    for name in columns:
        label, kind, value_labels = labels.get(name, (name, "number", {}))
        if name in FIXED_LABELS:
            label = bilingual(*FIXED_LABELS[name], lang)
            kind = "text" if name in TEXT_COLUMNS else (
                "category" if name in CATEGORY_COLUMNS else kind)
            value_labels = _fixed_value_labels(name, questionnaire, places, lang)
        if name == "submitted_at":
            kind = "datetime"
        variables.append(Variable(name, label, kind, value_labels))
    return Codebook(tuple(variables), title=title, strata=strata, psu=psu, fpc=fpc,
                    lonely_psu=lonely_psu, street_strata=street_strata)


def _questionnaire_labels(questionnaire, lang: str) -> dict[str, tuple[str, str, dict]]:
    labels: dict[str, tuple[str, str, dict]] = {}
    for item in questionnaire.items:
        text = bilingual(item.text.zh, item.text.en, lang)
        scale = questionnaire.scales[item.scale]
        points = list(scale.points) + ([scale.dont_know] if scale.dont_know else [])
        value_labels = {p.value: bilingual(p.label.zh, p.label.en, lang) for p in points}
        labels[item.id] = (text, "number", value_labels)
        score = bilingual("得分 (0-100)", "score (0-100)", lang)
        labels[f"item_{item.id}"] = (f"{text} — {score}", "number", {})
    for dimension in questionnaire.dimensions:
        name = bilingual(dimension.name.zh, dimension.name.en, lang)
        labels[f"dim_{dimension.id}"] = (
            f"{name} — {bilingual('维度得分 (0-100)', 'dimension score (0-100)', lang)}",
            "number", {})
    return labels


def _fixed_value_labels(name: str, questionnaire,
                        places: Mapping[str, Mapping[str, tuple[str, str]]],
                        lang: str) -> dict[str, str]:
    if name in FIXED_VALUE_LABELS:
        return {code: bilingual(*texts, lang) for code, texts in FIXED_VALUE_LABELS[name].items()}
    if name in places:
        return {code: f"{code} {bilingual(*names, lang)}" for code, names in places[name].items()}
    for question in questionnaire.demographics:
        if question.id == name and question.kind == "choice":
            return {c.value: bilingual(c.label.zh, c.label.en, lang) for c in question.choices}
    return {}
