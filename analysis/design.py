"""``SurveyDesign``: a complex sample design (weights, strata, one or two stages of clusters, fpc).

The design is immutable: weighting methods (``poststratify``, ``rake``, ``calibrate``, ``trim``)
return new designs that share the data and the design structure. Design variables are
factorised once, at construction; estimates are computed with grouped sums over integer codes.
PSU identifiers are taken as nested within strata (R's ``nest=TRUE``).
"""
from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis import codes, estimates, weighting
from analysis.results import Estimate, critical_value, make_table
from analysis.subset import SubsetStep
from analysis.variance import LONELY_PSU_OPTIONS, Influence, Stage, design_variance, domain_degf

if TYPE_CHECKING:
    from analysis.replicate import ReplicateDesign

ColumnSpec = str | Sequence[str] | None


def _as_list(spec: ColumnSpec) -> list[str]:
    if spec is None:
        return []
    if isinstance(spec, str):
        return [spec]
    return list(spec)


def _check_columns(data: pd.DataFrame, columns: list[str], role: str) -> None:
    for col in columns:
        if col not in data.columns:
            raise ValueError(f"{role}: column '{col}' is not in the data")
        missing = int(data[col].isna().sum())
        if missing:
            raise ValueError(f"{role}: design variable '{col}' has {missing} missing value(s); "
                             "rows with missing design variables are not allowed")


def _nested_codes(outer: np.ndarray, n_outer: int, inner: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, int]:
    """Codes for ``inner`` units nested in ``outer`` groups: (unit code per row, outer of unit, count)."""
    unit, (unit_outer, _) = codes.combine([outer, inner], [n_outer, int(inner.max(initial=0)) + 1])
    return unit, unit_outer, int(unit_outer.size)


def _fpc_fraction(values: np.ndarray, group: np.ndarray, n_groups: int, sampled: np.ndarray,
                  column: str) -> np.ndarray:
    """Sampling fraction n/N per group from an fpc column (population sizes, or fractions <= 1)."""
    lo = np.full(n_groups, np.inf)
    hi = np.full(n_groups, -np.inf)
    np.minimum.at(lo, group, values)
    np.maximum.at(hi, group, values)
    if np.any(lo != hi):
        raise ValueError(f"fpc: '{column}' must be constant within each stratum (or PSU at stage 2)")
    if np.all(values <= 1):
        return lo
    if np.any(lo < sampled):
        raise ValueError(f"fpc: '{column}' is smaller than the number of sampled units somewhere")
    return sampled / lo


class SurveyDesign:
    """A survey design whose estimates agree with R's ``survey`` package.

    ``weights``: column of sampling weights (None: implied by ``fpc``, else equal weights);
    ``strata``: stratum column; ``psu``: PSU column, or a list of two columns for two stages;
    ``fpc``: population sizes (or sampling fractions <= 1) per stratum, one column per stage;
    ``lonely_psu``: what to do with a stratum holding a single PSU, as R's
    ``options(survey.lonely.psu=)``. Rows with missing design variables raise ``ValueError``.

    Missing values in an analysis variable: those rows are left out of the numerator and the
    denominator of that estimate (R's ``na.rm=TRUE``) but stay in the design as out-of-domain
    rows, so strata, PSU counts and degrees of freedom are those of the whole sample. Rows
    with a missing ``by`` value belong to no domain. "adjust" centres a lonely PSU at zero, as
    survey 4.1.1 does (the grand mean of the influence values of a mean).
    """

    def __init__(self, data: pd.DataFrame, weights: str | None = None, strata: str | None = None,
                 psu: ColumnSpec = None, fpc: ColumnSpec = None, lonely_psu: str = "fail") -> None:
        if lonely_psu not in LONELY_PSU_OPTIONS:
            raise ValueError(f"lonely_psu: expected one of {', '.join(LONELY_PSU_OPTIONS)}, "
                             f"got {lonely_psu!r}")
        psus, fpcs = _as_list(psu), _as_list(fpc)
        if len(psus) > 2:
            raise ValueError("psu: at most two stages are supported")
        if fpcs and len(fpcs) != max(1, len(psus)):
            raise ValueError("fpc: give one fpc column per sampling stage")
        _check_columns(data, psus + fpcs + _as_list(strata) + _as_list(weights), "design")
        self._factors: dict = {}
        n = len(data)
        if strata is None:
            stratum, labels = np.zeros(n, dtype=np.int64), ("1",)
        else:
            stratum, uniques = codes.factorize(data[strata])
            labels = tuple(uniques)
            self._factors[(strata,)] = (stratum, uniques.rename(strata))
        n_strata = len(labels)
        if psus:
            inner = codes.factorize(data[psus[0]])[0]
            psu_code, psu_stratum, n_psu = _nested_codes(stratum, n_strata, inner)
        else:  # each row its own PSU
            (psu_code, psu_stratum), n_psu = codes.row_units(stratum), n
        n_h = np.bincount(psu_stratum, minlength=n_strata).astype(float)
        frac1 = None
        if fpcs:
            frac1 = _fpc_fraction(data[fpcs[0]].to_numpy(float), stratum, n_strata, n_h,
                                  fpcs[0])
        stages = [Stage(psu_code, n_psu, psu_stratum, n_strata, frac1, None, labels, 1)]
        prob = np.ones(n) if frac1 is None else frac1[stratum]
        if len(psus) == 2:
            ssu_inner = codes.factorize(data[psus[1]])[0]
            ssu_code, ssu_psu, n_ssu = _nested_codes(psu_code, n_psu, ssu_inner)
            n2 = np.bincount(ssu_psu, minlength=n_psu).astype(float)
            if fpcs:
                frac2 = _fpc_fraction(data[fpcs[1]].to_numpy(float), psu_code, n_psu,
                                      n2, fpcs[1])
                prob = prob * frac2[psu_code]
                stages.append(Stage(ssu_code, n_ssu, ssu_psu, n_psu, frac2,
                                    frac1[psu_stratum], tuple(range(1, n_psu + 1)), 2))
        if weights is not None:
            w = data[weights].to_numpy(float)
            if not np.all(np.isfinite(w)) or np.any(w < 0):
                raise ValueError(f"weights: '{weights}' must be finite and non-negative")
        else:
            w = 1.0 / prob
        self._data = data
        self._stages = tuple(stages)
        self._lonely_psu = lonely_psu
        self._weights = w
        self._base_weights = w
        self._steps: tuple = ()
        self._weighting_info: tuple = ()
        self._cache: dict = {}
        self._spec = {"weights": weights, "strata": strata, "psu": psus, "fpc": fpcs}

    # -- derived designs -------------------------------------------------------------------
    def _derive(self, weights: np.ndarray, step: Any, info: Any) -> SurveyDesign:
        new = object.__new__(SurveyDesign)
        new.__dict__.update(self.__dict__)
        new._weights = weights
        new._cache = {}
        new._steps = self._steps + (step,)
        new._weighting_info = self._weighting_info + ((info,) if info is not None else ())
        return new

    # -- basic properties -----------------------------------------------------------------
    @property
    def data(self) -> pd.DataFrame:
        """The data frame the design was built on (not copied)."""
        return self._data

    @property
    def weights(self) -> np.ndarray:
        """Final weights (after any weighting), as a read-only numpy array."""
        w = self._weights.view()
        w.flags.writeable = False
        return w

    @property
    def lonely_psu(self) -> str:
        """The lonely-PSU option in force."""
        return self._lonely_psu

    @property
    def weighting_info(self) -> tuple:
        """Diagnostics of every weighting step applied so far (e.g. ``RakeInfo``)."""
        return self._weighting_info

    @property
    def rake_info(self) -> weighting.RakeInfo | None:
        """Diagnostics of the most recent raking (convergence, iterations, misfit), or None."""
        for info in reversed(self._weighting_info):
            if isinstance(info, weighting.RakeInfo):
                return info
        return None

    @property
    def df(self) -> int:
        """Design degrees of freedom: PSUs minus strata, counting rows with nonzero weight."""
        if "df" not in self._cache:
            stage = self._stages[0]
            used = np.bincount(stage.unit, self._weights != 0, minlength=stage.n_units) > 0
            strata = np.bincount(stage.unit_stratum[used], minlength=stage.n_strata) > 0
            self._cache["df"] = int(used.sum() - strata.sum())
        return self._cache["df"]

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        s = self._spec
        return (f"SurveyDesign(n={len(self)}, weights={s['weights']!r}, strata={s['strata']!r}, "
                f"psu={s['psu']!r}, fpc={s['fpc']!r}, weighting_steps={len(self._steps)})")

    # -- internals ------------------------------------------------------------------------
    def _factor(self, columns: tuple[str, ...]) -> tuple[np.ndarray, pd.Index]:
        """Integer codes (-1 = missing) and sorted labels of one column or a combination.

        Cached per design family (derived designs share the data): each column is factorised
        once. A combination only has the observed combinations, as a MultiIndex.
        """
        if columns in self._factors:
            return self._factors[columns]
        if len(columns) == 1:
            col = columns[0]
            if col not in self._data.columns:
                raise ValueError(f"column '{col}' is not in the data")
            row_codes, uniques = codes.factorize(self._data[col])
            result = (row_codes, uniques.rename(col))
        else:
            parts = [self._factor((col,)) for col in columns]
            row_codes, combos = codes.combine([c for c, _ in parts], [len(i) for _, i in parts])
            result = (row_codes, pd.MultiIndex.from_arrays(
                [index.values[c] for (_, index), c in zip(parts, combos)], names=list(columns)))
        self._factors[columns] = result
        return result

    def _values(self, variable: str) -> np.ndarray:
        if variable not in self._data.columns:
            raise ValueError(f"variable: column '{variable}' is not in the data")
        col = self._data[variable]
        if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
            raise ValueError(f"variable: '{variable}' must be numeric (use proportion() for "
                             "categories)")
        return col.to_numpy(dtype=float, na_value=np.nan)

    def _indicator(self, variable: str, value: Hashable) -> np.ndarray:
        """1.0 where ``variable == value``, 0.0 elsewhere, NaN where it is missing."""
        if variable not in self._data.columns:
            raise ValueError(f"variable: column '{variable}' is not in the data")
        col = self._data[variable]
        return np.where(col.isna().to_numpy(), np.nan, (col == value).to_numpy(dtype=float))

    @property
    def _calibrated(self) -> bool:
        """Weighted to known totals (R keeps every row in a calibrated design's subsets)."""
        return any(not isinstance(step, (weighting.TrimStep, SubsetStep)) for step in self._steps)

    def _variance(self, influence: Influence, covmat: bool) -> np.ndarray:
        for step in self._steps:
            step.adjust(influence)
        return design_variance(influence, self._stages, self._lonely_psu, covmat,
                               domain_strata=not self._calibrated)

    def _domains(self, by: ColumnSpec) -> tuple[np.ndarray, int, pd.Index | None]:
        if by is None:
            return np.zeros(len(self._data), dtype=np.int64), 1, None
        codes, index = self._factor(tuple(_as_list(by)))
        return codes, len(index), index

    def _linear(self, kind: str, y: np.ndarray, variable: str, by: ColumnSpec, ci: str,
                level: float, covmat: bool) -> Estimate | pd.DataFrame:
        _check_interval(ci)
        dom, ndom, index = self._domains(by)
        res = estimates.linear_estimates(kind, y, dom, ndom, self._weights, self._variance,
                                         covmat=covmat and index is not None)
        return self._package(kind, variable, res.estimate, res.variance, res.deff, res.n,
                             index, ci, level, res.covariance)

    def _package(self, kind: str, variable: str, est: np.ndarray, var: np.ndarray,
                 deff: np.ndarray, n: np.ndarray, index: pd.Index | None, ci: str, level: float,
                 cov: np.ndarray | None, bounds: tuple | None = None,
                 interval: str | None = None,
                 df: np.ndarray | None = None) -> Estimate | pd.DataFrame:
        se = np.sqrt(var)
        df = np.full(est.shape, float(self.df)) if df is None else df.astype(float)
        if bounds is None:
            crit = critical_value(level, df, ci)
            bounds = (est - crit * se, est + crit * se)
        interval = interval or ci
        method = self._method_name()
        if index is None:
            return Estimate(kind, variable, float(est[0]), float(se[0]), float(bounds[0][0]),
                            float(bounds[1][0]), float(df[0]), float(deff[0]), int(n[0]), level,
                            interval, method)
        attrs = {"statistic": kind, "variable": variable, "level": level, "interval": interval,
                 "method": method}
        if cov is not None:
            attrs["covariance"] = pd.DataFrame(cov, index=index, columns=index)
        return make_table(index, {"estimate": est, "se": se, "ci_low": bounds[0],
                                  "ci_high": bounds[1], "df": df,
                                  "deff": deff, "n": n}, attrs)

    def _method_name(self) -> str:
        return "linearization"

    # -- estimators -----------------------------------------------------------------------
    def mean(self, variable: str, by: ColumnSpec = None, *, ci: str = "t", level: float = 0.95,
             covmat: bool = False) -> Estimate | pd.DataFrame:
        """Weighted mean of ``variable`` (R's ``svymean``/``svyby``), overall or per domain.

        With ``by`` (a column or list of columns) returns a DataFrame indexed by domain with
        columns estimate, se, ci_low, ci_high, df, deff, n; ``covmat=True`` adds the covariance
        of the domain estimates in ``table.attrs["covariance"]``. Domains keep the full design.
        Intervals use t with the design df (``ci="t"``) or the normal (``ci="normal"``).
        """
        return self._linear("mean", self._values(variable), variable, by, ci, level, covmat)

    def total(self, variable: str, by: ColumnSpec = None, *, ci: str = "t", level: float = 0.95,
              covmat: bool = False) -> Estimate | pd.DataFrame:
        """Weighted total of ``variable`` (R's ``svytotal``), overall or per domain."""
        return self._linear("total", self._values(variable), variable, by, ci, level, covmat)

    def proportion(self, variable: str, value: Hashable, by: ColumnSpec = None, *,
                   method: str = "logit", ci: str = "t",
                   level: float = 0.95) -> Estimate | pd.DataFrame:
        """Proportion of rows with ``variable == value`` and its interval (R's ``svyciprop``).

        ``method``: "logit" (R's default), "beta" (Korn-Graubard), "wilson", "wald", "asin" or
        "likelihood" (R's profile likelihood; see ``analysis.ciprop_likelihood``).
        Rows where ``variable`` is missing are left out of numerator and denominator.

        As ``svyby(..., svyciprop)``, a domain's interval uses the degrees of freedom of the
        domain's subset (its PSUs minus its strata), and "beta" counts the rows of that subset
        (missing outcomes included; every row for a calibrated design, whose subsets keep them).
        """
        y = self._indicator(variable, value)
        _check_interval(ci)
        if method == "likelihood":
            from analysis.ciprop_likelihood import likelihood_proportion

            return likelihood_proportion(self, variable, value, by, ci=ci, level=level)
        dom, ndom, index = self._domains(by)
        res = estimates.linear_estimates("mean", y, dom, ndom, self._weights, self._variance)
        se = np.sqrt(res.variance)
        if index is None or self._calibrated:
            n_rows = np.full(ndom, len(self._data))
        else:
            n_rows = np.bincount(dom[dom >= 0], minlength=ndom)
        df = (np.array([float(self.df)]) if index is None
              else domain_degf(self._stages[0], self._weights, dom, ndom).astype(float))
        bounds = estimates.proportion_interval(res.estimate, se, df, level, method, ci, n_rows)
        return self._package("proportion", f"{variable}=={value}", res.estimate, res.variance,
                             res.deff, res.n, index, ci, level, None, bounds,
                             f"{method}" if ci == "t" else f"{method}-normal", df)

    def ratio(self, numerator: str, denominator: str, by: ColumnSpec = None, *, ci: str = "t",
              level: float = 0.95, covmat: bool = False) -> Estimate | pd.DataFrame:
        """Ratio of weighted totals sum(w y) / sum(w x) (R's ``svyratio``), overall or per domain.

        E.g. pupils per enrolled child, or the share of a total; ``covmat=True`` adds the
        covariance of the domain ratios. Rows missing either variable are left out of both.
        """
        from analysis.ratio import ratio

        return ratio(self, numerator, denominator, by, ci=_check_interval(ci), level=level,
                     covmat=covmat)

    def quantile(self, variable: str, p: float = 0.5, by: ColumnSpec = None, *, ci: str = "t",
                 level: float = 0.95) -> Estimate | pd.DataFrame:
        """The p-quantile (default the median) of ``variable`` (R's ``svyquantile``).

        R's defaults: the inverse weighted CDF (``qrule="math"``) and Woodruff's interval
        (``interval.type="mean"``) with the domain's degrees of freedom; ``ci="normal"`` uses
        the normal instead. The SE is the interval's width over twice the critical value.
        """
        from analysis.quantile import quantile

        return quantile(self, variable, p, by, ci=_check_interval(ci), level=level)

    def var(self, variable: str, *, ci: str = "t", level: float = 0.95) -> Estimate:
        """Population variance of ``variable`` with its standard error (R's ``svyvar``)."""
        y = self._values(variable)
        ok = ~np.isnan(y)
        n = int((self._weights[ok] != 0).sum())
        m = np.sum(self._weights[ok] * y[ok]) / np.sum(self._weights[ok])
        u = (y - m) ** 2 * n / (n - 1)
        res = estimates.linear_estimates("mean", u, np.zeros(len(y), dtype=np.int64), 1,
                                         self._weights, self._variance)
        return self._package("variance", variable, res.estimate, res.variance,
                             np.array([np.nan]), res.n, None, _check_interval(ci), level, None)

    def domain_estimates(self, variable: str, by: ColumnSpec, kind: str = "mean"
                         ) -> tuple[pd.Index, np.ndarray, np.ndarray]:
        """Domain estimates followed by the whole-sample one, with their covariance matrix.

        Returns (domain index, estimates of length D + 1, covariance (D + 1) x (D + 1)); the
        building block for comparing each domain with the overall figure (same sample).
        """
        dom, ndom, index = self._domains(by)
        if index is None:
            raise ValueError("by: give the column(s) defining the domains")
        res = estimates.linear_estimates(kind, self._values(variable), dom, ndom, self._weights,
                                         self._variance, covmat=True, with_overall=True)
        return index, res.estimate, res.covariance

    # -- weighting ------------------------------------------------------------------------
    def poststratify(self, variables: str | Sequence[str],
                     population: Mapping[Hashable, float], *,
                     partial: bool = False) -> SurveyDesign:
        """Post-stratify to known population counts (R's ``postStratify``); returns a new design.

        ``variables``: one column or a list (keys of ``population`` are then tuples).
        ``partial=True`` ignores population categories without respondents (R's ``partial``):
        the weights then sum to the population of the categories present only.
        """
        cols = tuple(_as_list(variables))
        codes, index = self._factor(cols)
        step, w = weighting.poststratify(self._weights, codes, index, cols, population, partial)
        return self._derive(w, step, None)

    def rake(self, margins: Mapping[str | tuple[str, ...], Mapping[Hashable, float]], *,
             epsilon: float = 1.0, max_iter: int = 10,
             total_tolerance: float = 1e-6) -> SurveyDesign:
        """Rake to population margins by iterative proportional fitting (R's ``rake``).

        ``margins`` maps a column (or a tuple of columns, for a joint margin with tuple keys)
        to population counts per category. Stops when no cell of the joint weighted table of
        all margin variables changed by ``epsilon`` or more since the previous sweep
        (``epsilon >= 1``: weight units; below 1: fraction of the sum of the weights), after
        at most ``max_iter`` sweeps. The new design's ``rake_info`` reports convergence,
        sweeps and final misfit; ``RakingConvergenceWarning`` if it did not converge.
        Standard errors account for the raking as R's ``rake()`` does.
        """
        specs = []
        for key, targets in margins.items():
            cols = (key,) if isinstance(key, str) else tuple(key)
            codes, index = self._factor(cols)
            specs.append(weighting.MarginSpec(cols, codes, index, targets))
        step, w, info = weighting.rake(self._weights, specs, epsilon=epsilon,
                                       max_iter=max_iter, total_tolerance=total_tolerance)
        return self._derive(w, step, info)

    def calibrate(self, totals: Mapping[str, float | Mapping[Hashable, float]], *,
                  population_size: float | None = None, calfun: str = "linear",
                  bounds: tuple[float, float] = (-np.inf, np.inf), epsilon: float = 1e-7,
                  max_iter: int = 50) -> SurveyDesign:
        """Calibrate to population totals (R's ``calibrate``); returns a new design.

        ``totals`` maps a numeric column to its population total, or a categorical column to
        counts per category (one dummy per category); ``population_size`` adds an intercept.
        ``calfun``: "linear" (GREG), "raking" (exponential) or "logit"; ``bounds`` limit the
        ratio g = new / old weight (logit needs finite ones). Unbounded linear calibration is
        solved directly, the others by R's Newton iteration (``epsilon``, ``max_iter`` as R);
        ``weighting_info`` then holds a ``CalibrationInfo``. Standard errors use the GREG
        residuals with the final weights, as R does for every distance.
        """
        columns, totals_vec, names = [], [], []
        if population_size is not None:
            columns.append(np.ones(len(self._data)))
            totals_vec.append(float(population_size))
            names.append("(intercept)")
        for col, target in totals.items():
            if isinstance(target, Mapping):
                codes, index = self._factor((col,))
                weighting.check_categories(codes, index, (col,), target, "calibrate")
                for k, label in enumerate(index):
                    columns.append((codes == k).astype(float))
                    totals_vec.append(float(target[label]))
                    names.append(f"{col}={label}")
            else:
                x = self._values(col)
                if np.isnan(x).any():
                    raise ValueError(f"calibrate: column '{col}' has missing values")
                columns.append(x)
                totals_vec.append(float(target))
                names.append(col)
        if not columns:
            raise ValueError("calibrate: give at least one population total")
        x, target = np.column_stack(columns), np.asarray(totals_vec)
        lower, upper = (float(b) for b in bounds)
        if calfun == "linear" and lower == -np.inf and upper == np.inf:
            step, w = weighting.calibrate(self._weights, x, target, tuple(names))
            return self._derive(w, step, None)
        from analysis.calibration import calibrate

        step, w, info = calibrate(self._weights, x, target, calfun, lower, upper, epsilon,
                                  max_iter)
        return self._derive(w, step, info)

    def trim(self, lower: float = -np.inf, upper: float = np.inf, *,
             strict: bool = False) -> SurveyDesign:
        """Trim weights to [lower, upper] and share the excess equally among untrimmed rows.

        As R's ``trimWeights``: the redistribution can push weights past the bounds again;
        ``strict=True`` repeats until all weights are within bounds. Earlier weighting steps
        still adjust the variance (as in R).
        """
        step, w = weighting.trim(self._weights, lower, upper, strict)
        return self._derive(w, step, None)

    def subset(self, rows: np.ndarray | pd.Series) -> SurveyDesign:
        """The design restricted to ``rows`` (a boolean mask), for domain estimation (R's subset).

        Rows outside get weight 0 rather than being dropped, so variances use the whole design
        (out-of-domain PSUs count); ``df`` counts the PSUs and strata left with weight.
        Example: ``design.subset(design.data["district"] == "D01").median("index")``.
        """
        from analysis.subset import subset_step

        step = subset_step(rows, len(self))
        return self._derive(step.reapply(self._weights), step, None)

    def replicate(self, method: str = "jk1", replicates: int | None = None,
                  seed: int | None = None, *, mse: bool = False,
                  fay_rho: float = 0.0) -> ReplicateDesign:
        """Replicate-weight version of this design.

        ``method``: "jk1", "jkn", "bootstrap" (Rao-Wu: n - 1 PSUs drawn per stratum, no fpc;
        R's "subbootstrap"), "bootstrap_cd" (R's "bootstrap": Canty-Davison, with the fpc),
        "brr" or "fay" (balanced repeated replication with R's Hadamard matrices; ``fay_rho``
        for Fay's variant, e.g. 0.3). Weighting steps are redone on every replicate.
        ``mse=True`` centres the variance on the full-sample estimate instead of the mean of
        the replicates (R's ``mse``).
        """
        from analysis.replicate import make_replicate_design
        from analysis.replicate_build import BUILT_METHODS, build_replicates

        if method in BUILT_METHODS:
            return build_replicates(self, method, replicates, seed, mse, fay_rho)
        if fay_rho != 0:
            raise ValueError("fay_rho: only used with method 'fay'")

        return make_replicate_design(self, method, replicates, seed, mse)


def _check_interval(ci: str) -> str:
    if ci not in ("t", "normal"):
        raise ValueError(f"ci: expected 't' or 'normal', got {ci!r}")
    return ci
