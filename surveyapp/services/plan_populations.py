"""Adult populations per street for sampling plans, from a CSV file.

The geography file lists the streets but not their populations, so a plan reads them from a
CSV with columns ``street_code`` and ``adult_population`` (others are ignored: a name column
helps the people who fill it in). Every problem is reported at once, in Chinese and English,
naming the row (counted as a spreadsheet shows it: the header is row 1) and the column.
questionnaires/geography/shanghai-populations-INVENTED.csv is a demo file of invented numbers.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from surveyapp.services.declared_design import both

COLUMNS = ("street_code", "adult_population")
MAX_POPULATION = 100_000_000


class PopulationError(ValueError):
    """The populations cannot be used; ``problems`` lists every one (Chinese / English)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def read_populations(data: bytes, source_name: str, streets: dict[str, str]) -> dict[str, int]:
    """Street code -> adult population from CSV ``data`` (UTF-8, BOM allowed); ``streets``:
    street code -> district code of the geography. Unknown, repeated and non-numeric entries
    are PopulationError; streets the file omits are simply absent (see :func:`check_covers`)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PopulationError([f"{source_name}: " + both(
            "文件不是UTF-8编码", f"the file is not UTF-8 text ({error.reason})")]) from error
    rows = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (rows.fieldnames or [])]
    if missing:
        raise PopulationError([f"{source_name}: " + both(
            f"第1行（表头）缺少列{'、'.join(missing)}", f"row 1 (header): missing column(s) "
            f"{', '.join(missing)}; expected {', '.join(COLUMNS)}")])
    problems: list[str] = []
    found: dict[str, int] = {}
    seen: set[str] = set()
    for number, row in enumerate(rows, start=2):
        def problem(column: str, zh: str, en: str) -> None:
            problems.append(f"{source_name}: " + both(f"第{number}行，{column}列：{zh}",
                                                      f"row {number}, column {column}: {en}"))
        code = (row.get("street_code") or "").strip()
        value = (row.get("adult_population") or "").strip().replace(",", "")
        if code not in streets:
            problem("street_code", f"地理文件中没有街道{code!r}",
                    f"no street {code!r} in the geography")
        elif code in seen:
            problem("street_code", f"街道{code}重复出现", f"street {code} appears twice")
        if not value.isdigit() or not 0 < int(value) <= MAX_POPULATION:
            problem("adult_population", f"应为1至{MAX_POPULATION}的整数，而不是{value!r}",
                    f"expected a whole number from 1 to {MAX_POPULATION}; got {value!r}")
        elif code in streets and code not in seen:
            found[code] = int(value)
        seen.add(code)
    if problems:
        raise PopulationError(problems)
    return found


def check_covers(populations: dict[str, int], street_codes: Iterable[str],
                 source_name: str) -> None:
    """PopulationError naming every street of the plan's districts the file leaves out."""
    absent = [code for code in street_codes if code not in populations]
    if absent:
        raise PopulationError([f"{source_name}: " + both(
            f"缺少街道{code}的行（该街道属于本批次的区）",
            f"no row for street {code} (a street of the wave's districts)") for code in absent])
