"""Time the latent satisfaction index (issue 15 item 3) on a synthetic survey.

Pipeline: score the items -> SurveyDesign(weights, strata=district, psu=street) -> rake to
district x sex and district x age-group margins -> Rao-Wu bootstrap replicates (the raking
redone on each) -> PLS path model (3 dimensions x 4 items -> overall satisfaction) fitted on
the full sample and refitted on every replicate -> index, importance and performance with SEs.
Also one district (Hongkou, about 1/16 of the sample) fitted with the same replicates.

    python benchmarks/bench_latent_index.py                    # 2,400 responses, 200 replicates
    python benchmarks/bench_latent_index.py --responses 24000 --replicates 100
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import pandas as pd
from peak import peak_rss_mb
from synthetic import DIMENSIONS, ITEMS_PER_DIMENSION, synthetic_survey

from analysis import SurveyDesign, score
from analysis.latent_index import latent_index
from analysis.pls import pls_path_model

HONGKOU = "310109"


def median_seconds(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=2400)
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    survey = synthetic_survey(args.responses, seed=15)
    scores = score(survey.data, survey.spec)
    items = {dim: [f"item_{dim}_{k}" for k in range(1, ITEMS_PER_DIMENSION + 1)]
             for dim in DIMENSIONS}
    frame = pd.concat([survey.data[["district", "street", "sex", "age_group", "pw"]], scores],
                      axis=1)
    design = SurveyDesign(frame, weights="pw", strata="district", psu="street").rake(
        survey.margins)
    blocks = items | {"overall": ["overall"]}
    paths = {"overall": list(DIMENSIONS)}
    weights = design.weights

    fit_one = median_seconds(lambda: pls_path_model(frame, blocks, paths, weights=weights,
                                                    item_range=(0, 100)), args.repeat)
    replicates = design.replicate("bootstrap", replicates=args.replicates, seed=1)
    build = median_seconds(lambda: design.replicate("bootstrap", replicates=args.replicates,
                                                    seed=1), max(1, args.repeat // 2))
    result = latent_index(frame, replicates, items, ["overall"])
    city = median_seconds(lambda: latent_index(frame, replicates, items, ["overall"]),
                          args.repeat)
    hongkou = (frame["district"] == HONGKOU).to_numpy()
    district = median_seconds(lambda: latent_index(frame, replicates, items, ["overall"],
                                                   domain=hongkou), args.repeat)

    print(f"python {platform.python_version()} on {os.cpu_count()} cores; "
          f"{args.responses:,} responses, {args.replicates} bootstrap replicates, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"index {result.index:.2f} (SE {result.se:.3f}); fit iterations {result.fit.iterations}")
    print(f"one PLS fit (pls_path_model, full sample):       {fit_one * 1000:8.1f} ms")
    print(f"replicate weights (bootstrap, raking redone):    {build * 1000:8.1f} ms")
    print(f"city index incl. SE ({args.replicates + 1} fits):             {city * 1000:8.1f} ms")
    print(f"one district incl. SE ({int(hongkou.sum())} responses):       {district * 1000:8.1f} ms")
    print(f"peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
