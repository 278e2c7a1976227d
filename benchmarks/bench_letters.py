"""Time to print invitation letters (surveyapp.reports.letters): A4, two a page, each with its
code and QR code, for 40, 400 and 2,000 made-up codes of one street. No database: the letters
are laid out from their notice and codes, as the admin page and the CLI do after generating.

    python benchmarks/bench_letters.py                  # 40, 400, 2,000 letters
    python benchmarks/bench_letters.py --sizes 400 --repeat 3
"""
from __future__ import annotations

import argparse
import os
import platform
import secrets
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from surveyapp.questionnaires import Text
from surveyapp.reports.letters import build_letters
from surveyapp.reports.notices import Invitation, Letters, Notice

URL = "https://survey.example.gov.cn/s/5"


def letters(count: int) -> Letters:
    notice = Notice(Text("市民质量满意度测评", "Citizen quality satisfaction survey"),
                    Text("虹口区", "Hongkou District"), Text("欧阳路街道", "Ouyanglu Subdistrict"),
                    URL, date(2025, 9, 1), date(2025, 11, 30), "北京时间 Beijing time, UTC+08:00")
    codes = [secrets.token_hex(5).upper() for _ in range(count)]
    return Letters(notice, [Invitation(code, f"{URL}#code={code}") for code in codes])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[40, 400, 2000])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}")
    print("letters  pages  PDF KiB  wall s  CPU s  CPU ms per letter")
    for size in args.sizes:
        walls, cpus = [], []
        for _ in range(args.repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            document = build_letters(letters(size))
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        cpu = statistics.median(cpus)
        print(f"{size:7d}  {(size + 1) // 2:5d}  {len(document) / 1024:7.0f}  "
              f"{statistics.median(walls):6.2f}  {cpu:5.2f}  {1000 * cpu / size:17.1f}")


if __name__ == "__main__":
    main()
