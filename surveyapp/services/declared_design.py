"""What a wave declares about how its sample was drawn, and whether that can describe the wave.

The names, labels and checks of the declared designs, apart from surveyapp.services.sample_design
(which builds the design from the responses): creating a wave, the admin form and the command
line need only these, without loading the statistics stack.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from surveyapp.choices import (
    DEFAULT_DESIGN,
    DEFAULT_LONELY_PSU,
    DESIGN_NAMES,
    LONELY_NAMES,
    LONELY_PSU_RULES,
    SAMPLE_DESIGNS,
)
from surveyapp.extensions import db
from surveyapp.models.survey import Street, Wave


class DesignError(ValueError):
    """A declared design that does not fit the wave or its data; the message (Chinese, then
    English) names the wave, the stratum and what is expected."""


def both(zh: str, en: str) -> str:
    """One message in both languages, Chinese first (errors reach staff in either)."""
    return f"{zh} / {en}"


@dataclass(frozen=True)
class DeclaredDesign:
    """How a wave's sample was drawn: one of SAMPLE_DESIGNS and a lonely-PSU rule."""

    kind: str = DEFAULT_DESIGN
    lonely_psu: str = DEFAULT_LONELY_PSU

    @classmethod
    def of(cls, wave: Wave) -> DeclaredDesign:
        return cls(wave.sample_design or DEFAULT_DESIGN, wave.lonely_psu or DEFAULT_LONELY_PSU)

    def describe(self, lang: str) -> str:
        """The design and its lonely-PSU rule in ``lang`` ('zh' or 'en'), for method sections."""
        (zh, en), (lonely_zh, lonely_en) = DESIGN_NAMES[self.kind], LONELY_NAMES[self.lonely_psu]
        if lang == "zh":
            return f"{zh}；单一单位的层：{lonely_zh}（{self.lonely_psu}）"
        return f"{en}; a stratum with a single unit: {lonely_en} ({self.lonely_psu})"

    @property
    def uses_streets(self) -> bool:
        return self.kind != "district"


def street_frame_counts(district_codes: Iterable[str]) -> dict[str, int]:
    """Streets per district in the loaded geography: the sampling frame of "street_psu"."""
    rows = db.session.execute(
        sa.select(Street.district_code, sa.func.count(Street.code))
        .where(Street.district_code.in_(sorted(district_codes)))
        .group_by(Street.district_code)).all()
    return {district: int(count) for district, count in rows}


def check_declared_design(kind: str, lonely_psu: str, street_counts: Mapping[str, int],
                          asks_street: bool, wave_label: str) -> None:
    """DesignError unless ``kind`` can describe a wave over the districts of
    ``street_counts`` (district -> streets in the geography) whose questionnaire does or does
    not ask for the street. Called at wave creation, before anything is stored."""
    label = wave_label.strip() or "?"
    if kind not in SAMPLE_DESIGNS:
        raise DesignError("sample_design: " + both(
            f"测评批次{label}：抽样设计应为{'、'.join(SAMPLE_DESIGNS)}之一，而不是{kind!r}",
            f"wave {label}: expected one of {', '.join(SAMPLE_DESIGNS)}; got {kind!r}"))
    if lonely_psu not in LONELY_PSU_RULES:
        raise DesignError("lonely_psu: " + both(
            f"测评批次{label}：单一单位规则应为{'、'.join(LONELY_PSU_RULES)}之一，而不是{lonely_psu!r}",
            f"wave {label}: expected one of {', '.join(LONELY_PSU_RULES)}; got {lonely_psu!r}"))
    if kind == "district":
        return
    if not asks_street:
        raise DesignError("sample_design: " + both(
            f"测评批次{label}：设计{kind}需要每份答卷的街道，但问卷不询问街道；请选择 district",
            f"wave {label}: design {kind} needs each response's street but the questionnaire "
            "does not ask for it; expected design district"))
    for district, count in sorted(street_counts.items()):
        if count == 0:
            raise DesignError("sample_design: " + both(
                f"测评批次{label}：区{district}在地理文件中没有街道，设计{kind}需要其街道名单"
                "（街道总数用于有限总体校正）",
                f"wave {label}: district {district} has no streets in the geography; design "
                f"{kind} expects its list of streets (the frame count for the fpc)"))
        if kind == "street_psu" and count == 1 and lonely_psu == "fail":
            raise DesignError("lonely_psu: " + both(
                f"测评批次{label}：区{district}只有1个街道，规则fail要求每层至少2个初级单位；"
                "请选择其他规则或设计",
                f"wave {label}: district {district} has only 1 street, and rule fail expects at "
                "least 2 PSUs per stratum; choose another rule or design"))
