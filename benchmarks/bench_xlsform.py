"""Time of an XLSForm export and of its import (read + full validation) for each shipped
questionnaire, with the Shanghai geography's 16 district and 215 street choices.

    python benchmarks/bench_xlsform.py              # 20 rounds each
    python benchmarks/bench_xlsform.py --repeat 50
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from surveyapp.questionnaires import load_geography, load_questionnaire
from surveyapp.xlsform.reader import read_xlsform
from surveyapp.xlsform.writer import write_xlsform

FOLDER = Path(__file__).resolve().parents[1] / "questionnaires"


def median_ms(action, repeat: int) -> float:
    times = []
    for _round in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    repeat = parser.parse_args().repeat
    districts = load_geography(FOLDER / "geography" / "shanghai.yaml").districts
    print(f"load average {os.getloadavg()[0]:.1f}; median of {repeat} rounds")
    print("| questionnaire | .xlsx size | export | import |\n|---|---|---|---|")
    for name in ("citizen", "government", "public_service"):
        questionnaire = load_questionnaire(FOLDER / f"{name}.yaml")
        data = write_xlsform(questionnaire, districts)
        export = median_ms(lambda q=questionnaire: write_xlsform(q, districts), repeat)
        imported = median_ms(lambda d=data: read_xlsform(d, "bench.xlsx"), repeat)
        print(f"| {name} | {len(data) / 1024:.0f} KiB | {export:.0f} ms | {imported:.0f} ms |")


if __name__ == "__main__":
    main()
