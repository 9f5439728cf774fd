"""Design-based (Taylor linearisation) variance for weighted, stratified and clustered samples.

A :class:`SurveyDesign` holds what R's ``survey::svydesign(ids = ~psu, strata = ~strata,
weights = ~w, fpc = ~fpc)`` holds, and optionally the raking margins of a calibrated design
(``survey::rake``). Every estimator hands it *linearised values* u_i (each row's contribution
to an estimating equation, weight included); the design returns their variance

    V = Σ_h (1 − f_h) · n_h/(n_h − 1) · Σ_{i∈h} (z_hi − z̄_h)(z_hi − z̄_h)'

where z_hi is the total of u over the rows of PSU i of stratum h, z̄_h the mean over the n_h
PSUs of the stratum and f_h = n_h/N_h the sampling fraction (0 without an fpc). Without
clusters every row is its own PSU; without strata there is one stratum. This is
``survey:::svyrecvar``; a weights-only design gives n/(n−1) Σ u_i u_i' (``svymean``).

* **Domains** (segments, and rows that skipped a question): the rows outside the domain stay
  in the design with u_i = 0, and n_h keeps counting every PSU of the full design — what
  ``svyby`` and ``svymean(na.rm = TRUE)`` do. Segment estimates are therefore domain
  estimates of the whole sample, not estimates from a separate design per segment.
* **Degrees of freedom**: number of PSUs minus number of strata among the rows used
  (``degf``); n − 1 for a weights-only design.
* **Lonely PSUs** (a stratum with one PSU has no within-stratum variance), as R's
  ``options(survey.lonely.psu = ...)``: ``fail`` (an error naming the stratum), ``remove`` and
  ``certainty`` (the stratum adds nothing), ``adjust`` (its PSU total is centred at the grand
  mean, Σ u / number of PSUs, instead of its own), ``average`` (the other strata's variance is
  scaled up by strata / strata with two or more PSUs).
* **Raking**: before the PSU totals are formed, u is residualised on the raking margins by ten
  passes of ``u ← u − w · mean_c(u / w)`` over each margin's categories c (unweighted means,
  w the raked weights), exactly as ``svyrecvar`` does for a ``rake()`` design. The resulting
  SE is the calibration-adjusted one R prints for a raked design.
* **Design effect**: ``deff`` = V / (s²_w / n) with s²_w the weighted variance with the n − 1
  divisor (R's ``deff = "replace"``); the design's effective sample size of an estimate is
  n / deff.

PSU labels are read within their stratum (R's ``nest = TRUE``), so store 1 of the north and
store 1 of the south are two PSUs.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .design_inputs import (LONELY_PSU, RAKING_PASSES, Calibration, DesignContrast, DesignError, DesignStructure,
                            design_codes, fpc_factor)
from .estimators import MeanEstimate, kish_n_eff, weighted_average

__all__ = ["SurveyDesign", "Calibration", "DesignError", "LONELY_PSU", "RAKING_PASSES", "DesignContrast"]

class SurveyDesign:
    """A sample design: weights, optional strata, PSUs (clusters), fpc and raking margins.

    Parameters
    ----------
    weights : array, optional
        Design weights (> 0); 1 for every row when omitted. A weight of 0 marks a row that is
        not part of the sample (R: a row dropped by ``subset``); it counts in no estimate.
    strata, psu : array of labels, optional
        Stratum and PSU (cluster) of each row. PSU labels are read within their stratum.
    fpc : array of numbers, optional
        Population number of PSUs in the row's stratum (N_h, constant within a stratum), or the
        sampling fraction when every value is at most 1, as in ``svydesign(fpc = ~fpc)``.
    n : int, optional
        Number of rows when neither weights nor design columns are given.
    lonely_psu : {"fail", "adjust", "average", "remove", "certainty"}
        What a stratum with a single PSU contributes (R's ``survey.lonely.psu``).
    calibration : Calibration, optional
        Raking margins, for the calibration-adjusted variance of a raked design.
    names : dict, optional
        How to name the design columns in error messages, e.g. ``{"strata": "design.strata (region)"}``.

    Examples
    --------
    >>> w = np.array([1.0, 2.0, 1.0, 2.0, 1.0, 2.0])
    >>> d = SurveyDesign(weights=w, strata=np.array(["n", "n", "n", "s", "s", "s"]))
    >>> m = d.mean(np.array([3.0, 4.0, 5.0, 6.0, 5.0, 7.0]))  # R: svymean(~sat, svydesign(ids=~1, strata=~st, weights=~w))
    >>> round(m.mean, 4), d.degf()
    (5.2222, 4)
    """

    def __init__(self, weights=None, strata=None, psu=None, fpc=None, *, n: int | None = None,
                 lonely_psu: str = "fail", calibration: Calibration | None = None,
                 names: dict[str, str] | None = None):
        names = {"weights": "weights", "strata": "strata", "psu": "psu", "fpc": "fpc", **(names or {})}
        sizes = {len(a) for a in (weights, strata, psu, fpc) if a is not None}
        if n is not None:
            sizes.add(int(n))
        if len(sizes) > 1:
            raise DesignError(f"design columns have different lengths: {sorted(sizes)}")
        size = sizes.pop() if sizes else 0
        if lonely_psu not in LONELY_PSU:
            raise DesignError(f"lonely_psu must be one of {', '.join(LONELY_PSU)}, got {lonely_psu!r}")
        w = np.ones(size) if weights is None else np.asarray(weights, dtype=float)
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            raise DesignError(f"{names['weights']}: {int(bad.sum())} weight(s) are missing or negative; "
                              f"design weights must be positive numbers")
        if strata is not None:
            stratum, stratum_labels = design_codes(strata, names["strata"])
        else:
            stratum, stratum_labels = np.zeros(size, dtype=np.int64), ["(all)"]
        n_strata = len(stratum_labels)
        psu_codes = psu_stratum = None
        if psu is not None:
            raw, _ = design_codes(psu, names["psu"])
            key = stratum * (int(raw.max()) + 1 if size else 1) + raw  # nested within strata
            uniq, psu_codes = np.unique(key, return_inverse=True)
            psu_codes = psu_codes.ravel().astype(np.int64)
            psu_stratum = np.zeros(len(uniq), dtype=np.int64)
            psu_stratum[psu_codes] = stratum
            n_h = np.bincount(psu_stratum, minlength=n_strata).astype(float)
        else:
            n_h = np.bincount(stratum, minlength=n_strata).astype(float)
        factor = np.ones(n_strata)
        if fpc is not None:
            factor = fpc_factor(fpc, stratum, n_h, stratum_labels, names["fpc"])
        lonely = n_h == 1
        undefined = strata is None and psu is None and size == 1  # one respondent: no variance at all
        if undefined:
            lonely = np.zeros(1, dtype=bool)
        if lonely.any() and lonely_psu == "fail":
            which = ", ".join(repr(stratum_labels[h]) for h in np.flatnonzero(lonely)[:5])
            raise DesignError(f"{names['strata']}: stratum {which} has only one PSU, so its variance cannot be "
                              f"estimated; set design.lonely_psu to adjust, average, remove or certainty "
                              f"(R's survey.lonely.psu)")
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(lonely, factor, factor * n_h / (n_h - 1))
        if undefined:
            scale = np.full(1, np.nan)  # R: NaN (n / (n − 1) with n = 1); the analyses say why they skip
        if calibration is not None:
            cw = np.asarray(calibration.weights, dtype=float)
            if len(cw) != size or any(len(m) != size for m in calibration.margins):
                raise DesignError("calibration margins and weights must have one entry per row")
        self._s = DesignStructure(w, stratum, psu_codes, psu_stratum, n_h, scale, lonely, tuple(stratum_labels),
                             lonely_psu, calibration, strata is not None, fpc is not None, bool(np.all(w > 0)))
        self._rows: np.ndarray | None = None

    # -- views ----------------------------------------------------------------------------
    def subset(self, mask) -> "SurveyDesign":
        """The design restricted to ``mask`` rows (R's ``design[mask, ]``).

        The strata and PSU counts of the full sample are kept, so variances computed on the
        subset are domain variances of the whole design.
        """
        mask = np.asarray(mask, dtype=bool)
        if len(mask) != self.n:
            raise DesignError(f"subset mask has {len(mask)} entries for {self.n} rows")
        out = object.__new__(SurveyDesign)
        out._s = self._s
        out._rows = self._base_rows()[mask]
        return out

    def _base_rows(self) -> np.ndarray:
        return np.arange(len(self._s.weights)) if self._rows is None else self._rows

    @property
    def n(self) -> int:
        """Rows in this view."""
        return len(self._s.weights) if self._rows is None else len(self._rows)

    @property
    def weights(self) -> np.ndarray:
        return self._s.weights if self._rows is None else self._s.weights[self._rows]

    @property
    def is_complex(self) -> bool:
        """True when the design has strata, clusters, an fpc or raking (not just weights)."""
        s = self._s
        return s.has_strata or s.psu is not None or s.has_fpc or s.calibration is not None

    @property
    def n_strata(self) -> int:
        return len(self._s.n_h)

    @property
    def n_psu(self) -> int:
        """PSUs of the full sample (rows when there are no clusters)."""
        return int(self._s.n_h.sum())

    @property
    def lonely_strata(self) -> list[str]:
        return [self._s.stratum_labels[h] for h in np.flatnonzero(self._s.lonely)]

    def degf(self, mask=None) -> int:
        """Design degrees of freedom of the rows used: PSUs minus strata (R's ``degf``)."""
        s = self._s
        keep = s.weights > 0 if self._rows is None else s.weights[self._rows] > 0
        if mask is not None:
            keep = keep & np.asarray(mask, dtype=bool)  # R: degf counts the PSUs of rows with a weight
        rows = self._base_index(np.flatnonzero(keep))
        if len(rows) == 0:
            return 0
        strata = np.count_nonzero(np.bincount(s.stratum[rows], minlength=len(s.n_h)))
        if s.psu is None:
            return int(len(rows) - strata)
        return int(np.count_nonzero(np.bincount(s.psu[rows], minlength=len(s.psu_stratum))) - strata)

    def describe(self) -> dict[str, Any]:
        """The design's shape for reports: strata, PSUs, df, lonely-PSU rule, raking."""
        s = self._s
        return {"strata": self.n_strata if s.has_strata else None,
                "psu": int(len(s.psu_stratum)) if s.psu is not None else None,
                "fpc": s.has_fpc, "df": self.degf(), "lonely_psu": s.lonely_psu,
                "lonely_strata": self.lonely_strata, "raked": s.calibration is not None}

    def __repr__(self) -> str:
        s = self._s
        parts = [f"n={self.n:,}"]
        if s.has_strata:
            parts.append(f"strata={self.n_strata}")
        if s.psu is not None:
            parts.append(f"psu={len(s.psu_stratum)}")
        if s.has_fpc:
            parts.append("fpc")
        if s.calibration is not None:
            parts.append(f"raked on {len(s.calibration.margins)} margins")
        return f"SurveyDesign({', '.join(parts)}, df={self.degf()})"

    # -- variance -------------------------------------------------------------------------
    def cov(self, values, present=None) -> np.ndarray:
        """Design variance of the total of linearised ``values`` (one row per row of this view).

        Parameters
        ----------
        values : array (n,) or (n, k)
            u_i, each row's contribution (weight included) to the estimating equations.
        present : bool array (n,), optional
            The rows the estimate is about (a domain); only strata holding one of them count
            for the ``average`` and ``adjust`` lonely-PSU rules, as in R. Default: all rows.

        Returns
        -------
        float or array (k, k)
        """
        x = np.asarray(values, dtype=float)
        vector = x.ndim == 1
        x = x.reshape(len(x), -1)
        if len(x) != self.n:
            raise DesignError(f"{len(x)} linearised values for {self.n} rows")
        present_at = None if present is None else np.flatnonzero(np.asarray(present, dtype=bool))
        v = self._variance(x, None, present_at)
        return float(v[0, 0]) if vector else v

    def cov_patterns(self, index: np.ndarray, scores: np.ndarray, multiplier: np.ndarray, present=None) -> np.ndarray:
        """Design variance of Σ_i multiplier_i · scores[index_i] without forming the rows × k matrix.

        ``scores`` holds one row per collapsed answer pattern and ``index`` each row's pattern,
        so a model fitted on patterns gets the same sandwich as one fitted on rows.
        """
        scores = np.asarray(scores, dtype=float).reshape(len(scores), -1)
        index = np.asarray(index, dtype=np.int64)
        mult = np.asarray(multiplier, dtype=float)
        s = self._s
        present_at = None if present is None else np.flatnonzero(np.asarray(present, dtype=bool))
        strata_present = self._present_strata(present_at)
        n_pat = len(scores)
        if s.calibration is not None or (strata_present is not None and s.psu is None):
            return self._variance(mult[:, None] * scores[index], None, present_at)
        if s.psu is None:
            # rows are the PSUs: per stratum, Σ z z' = Σ_p (Σ_{i∈p} m_i²) s_p s_p' and Σ z = Σ_p (Σ_{i∈p} m_i) s_p
            H = len(s.n_h)
            stratum = s.stratum if self._rows is None else s.stratum[self._rows]
            key = stratum * n_pat + index
            m1 = np.bincount(key, weights=mult, minlength=H * n_pat).reshape(H, n_pat)
            m2 = np.bincount(key, weights=mult * mult, minlength=H * n_pat).reshape(H, n_pat)
            v = np.zeros((scores.shape[1], scores.shape[1]))
            for h in np.flatnonzero(m2.any(axis=1)):
                if s.lonely[h]:
                    continue  # remove / certainty: a lonely stratum adds nothing
                s1 = m1[h] @ scores
                v += s.scale_h[h] * ((scores * m2[h][:, None]).T @ scores - np.outer(s1, s1) / s.n_h[h])
            return v
        P = len(s.psu_stratum)
        psu = s.psu if self._rows is None else s.psu[self._rows]
        if P * n_pat <= 20_000_000:  # PSU × pattern weight table, then z = table @ scores
            table = np.bincount(psu * n_pat + index, weights=mult, minlength=P * n_pat).reshape(P, n_pat)
            z = table @ scores
        else:
            z = np.empty((P, scores.shape[1]))
            for j in range(scores.shape[1]):
                z[:, j] = np.bincount(psu, weights=mult * scores[index, j], minlength=P)
        return self._combine(z, s.psu_stratum, strata_present)

    def _base_index(self, positions: np.ndarray | None) -> np.ndarray | None:
        """Rows of the full sample at view ``positions`` (None = every row of an unrestricted view)."""
        if self._rows is None:
            return positions
        return self._rows if positions is None else self._rows[positions]

    def _present_strata(self, positions: np.ndarray | None) -> np.ndarray | None:
        """Strata holding a row of the estimate (only the lonely-PSU rules need them; None = not needed)."""
        s = self._s
        if not (s.lonely.any() and s.lonely_psu in ("adjust", "average")):
            return None
        if s.calibration is not None:  # a calibrated design keeps every row (R sets their weight to 0)
            return np.ones(len(s.n_h), dtype=bool)
        rows = self._base_index(positions)
        out = np.zeros(len(s.n_h), dtype=bool)
        out[s.stratum if rows is None else s.stratum[rows]] = True
        return out

    def _variance(self, x: np.ndarray, positions: np.ndarray | None, present: np.ndarray | None) -> np.ndarray:
        """Variance of the total of ``x``, the values of the view rows at ``positions`` (all when
        None); every other row contributes 0. ``present``: view positions of the estimate's rows."""
        s = self._s
        rows = self._base_index(positions)
        strata_present = self._present_strata(present if present is not None else positions)
        k = x.shape[1]
        if s.calibration is not None:
            x, rows = self._residualise(x, rows), None
        if s.psu is None:  # rows are the units; units not listed have total 0
            return self._combine(x, s.stratum if rows is None else s.stratum[rows], strata_present)
        P = len(s.psu_stratum)
        z = np.empty((P, k))
        psu = s.psu if rows is None else s.psu[rows]
        for j in range(k):
            z[:, j] = np.bincount(psu, weights=x[:, j], minlength=P)
        return self._combine(z, s.psu_stratum, strata_present)

    def _residualise(self, x: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
        """R's raking projection, ``passes`` × for each margin: u ← u − w · mean_c(u / w).

        ``x`` holds the values of the full-sample ``rows`` (all rows when None); the result has
        one row per row of the full sample. In r = u / w each step subtracts the unweighted
        category mean of r, so the passes only move per-category offsets a_m; they are run on
        category sums and the margins' cross-tabulated counts (exactly R's sequence of steps),
        and the rows are touched once at the end: u − w · Σ_m a_m[c_m].
        """
        cal = self._s.calibration
        psw = np.asarray(cal.weights, dtype=float)
        margins = cal.margins
        counts, cross = self._calibration_tables()
        k = x.shape[1]
        r_rows = x / (psw[:, None] if rows is None else psw[rows, None])
        sums = [np.stack([np.bincount(m if rows is None else m[rows], weights=r_rows[:, j], minlength=len(c))
                          for j in range(k)], axis=1) for m, c in zip(margins, counts)]
        offsets = [np.zeros((len(c), k)) for c in counts]
        for _ in range(cal.passes):
            for a, (cnt, sm) in enumerate(zip(counts, sums)):
                current = sm.copy()
                for b, off in enumerate(offsets):
                    current -= cross[a][b] @ off
                offsets[a] += current / cnt[:, None]
        shift = np.zeros((len(psw), k))
        for m, off in zip(margins, offsets):
            shift += off[m]
        out = -psw[:, None] * shift
        if rows is None:
            out += x
        else:
            out[rows] += x  # view rows are distinct rows of the full sample
        return out

    def _calibration_tables(self):
        """Per margin: category counts; per pair of margins: the cross-tabulated row counts (cached)."""
        cache = self._s.cache
        if "calibration" not in cache:
            margins = self._s.calibration.margins
            counts = [np.bincount(m).astype(float) for m in margins]
            cross = [[(np.diag(ca) if a == b else
                       np.bincount(ma * len(cb) + mb, minlength=len(ca) * len(cb)).reshape(len(ca), len(cb))
                       .astype(float))
                      for b, (mb, cb) in enumerate(zip(margins, counts))]
                     for a, (ma, ca) in enumerate(zip(margins, counts))]
            cache["calibration"] = (counts, cross)
        return cache["calibration"]

    def _combine(self, z: np.ndarray, unit_stratum: np.ndarray, strata_present: np.ndarray) -> np.ndarray:
        """Σ_h scale_h Σ_i (z_hi − z̄_h)(z_hi − z̄_h)' from unit totals z (units listed or implied zero).

        ``z`` need not list every unit: the units of a stratum that are absent have total 0 and
        z̄_h divides by the stratum's full unit count n_h.
        """
        s = self._s
        H, k = len(s.n_h), z.shape[1]
        if H == 1 and strata_present is None:  # one stratum: Σ (z − z̄)² with the absent units at 0
            total = z.sum(axis=0)
            mean = total / s.n_h[0]
            scale = 0.0 if s.lonely[0] else s.scale_h[0]
            return scale * (z.T @ z - s.n_h[0] * np.outer(mean, mean))
        sums = np.zeros((H, k))
        for j in range(k):
            sums[:, j] = np.bincount(unit_stratum, weights=z[:, j], minlength=H)
        means = sums / s.n_h[:, None]
        scale = np.where(s.lonely, 0.0, s.scale_h)
        centred = z - means[unit_stratum]
        v = (centred * scale[unit_stratum, None]).T @ centred
        # units of a stratum with no listed row (n_h − listed units, total 0) add n_missing · z̄ z̄'
        listed = np.bincount(unit_stratum, minlength=H).astype(float)
        absent = s.n_h - listed
        if np.any(absent > 0):
            coef = scale * absent
            v += (means * coef[:, None]).T @ means
        if strata_present is not None:  # a lonely stratum under the adjust or average rule
            rule = s.lonely_psu
            if rule == "adjust":
                n_psus_all = float(s.n_h[strata_present].sum())
                centre = z.sum(axis=0) / n_psus_all
                for h in np.flatnonzero(s.lonely & strata_present):
                    d = sums[h] - centre
                    v += s.scale_h[h] * np.outer(d, d)
            elif rule == "average":
                ok = int(np.sum(strata_present & ~s.lonely))
                total = int(np.sum(strata_present))
                if ok == 0:
                    return np.full((k, k), np.nan)
                v *= total / ok
        return v

    # -- estimators -----------------------------------------------------------------------
    def mean(self, values, domain=None) -> MeanEstimate:
        """Weighted mean of ``values`` (NaN = not answered) in ``domain``, with its design SE.

        Equal to R's ``svymean(~y, design, na.rm = TRUE, deff = "replace")`` for the whole
        sample and to ``svyby(~y, ~segment, design, svymean)`` for a domain.

        Returns
        -------
        MeanEstimate
            ``n`` rows used; ``deff`` the design effect; ``n_eff`` Kish's (Σw)²/Σw² for a
            weights-only design and n / deff for a complex one; ``design_df`` the design's
            degrees of freedom (None for a weights-only design, where it is n − 1).
        """
        y = np.asarray(values, dtype=float)
        if len(y) != self.n:
            raise DesignError(f"{len(y)} values for {self.n} rows")
        w = self.weights
        if domain is None:
            answered = ~np.isnan(y) if self._s.all_positive else ~np.isnan(y) & (w > 0)
            at = np.flatnonzero(answered)
        else:  # only the domain's rows are read (a segment of a million rows is cheap)
            at = np.flatnonzero(np.asarray(domain, dtype=bool))
            at = at[~np.isnan(y[at]) & (w[at] > 0)]
            answered = None
        n = len(at)
        if n == 0:
            return MeanEstimate(float("nan"), float("nan"), 0, 0.0)
        wi, yi = w[at], y[at]
        total = float(wi.sum())
        mean = weighted_average(yi, wi)
        kish = kish_n_eff(wi)
        if self.is_complex and answered is None:
            answered = ~np.isnan(y) & (w > 0)
        df = self.degf(answered) if self.is_complex else None
        if n < 2:
            return MeanEstimate(mean, float("nan"), n, kish, design_df=df)
        var = max(float(self._variance((wi * (yi - mean) / total)[:, None], at, at)[0, 0]), 0.0)
        s2 = n / (n - 1) * float(np.dot(wi, (yi - mean) ** 2)) / total
        deff = var / (s2 / n) if s2 > 0 else float("nan")
        n_eff = (n / deff if deff > 0 else float(n)) if self.is_complex and np.isfinite(deff) else kish
        return MeanEstimate(mean, float(np.sqrt(var)), n, float(n_eff), design_df=df, deff=float(deff))

    def partition_means(self, values, groups, n_groups: int) -> list[tuple[MeanEstimate, MeanEstimate]] | None:
        """:meth:`mean` of each group of a partition (``groups``: 0 .. n_groups − 1 per row) and of
        all rows outside it, in one pass (:func:`csatlib.stats.partition.partition_means`); None
        for a complex design, whose domains :meth:`mean` takes one at a time."""
        if self.is_complex:
            return None
        from .partition import partition_means

        w = self.weights
        y = np.where(w > 0, np.asarray(values, dtype=float), np.nan)  # a row of weight 0 is in no domain
        return partition_means(y, w, groups, n_groups, design_units=int(self._s.n_h[0]),
                               design_scale=float(self._s.scale_h[0]))

    def difference(self, values, a, b) -> DesignContrast:
        """Mean in domain ``a`` minus mean in domain ``b``, with the design SE of the difference.

        Both means come from the same sample, so their covariance through shared PSUs is part
        of the variance (R: ``svycontrast(svyby(...), ...)``).
        """
        y = np.asarray(values, dtype=float)
        answered = ~np.isnan(y) & (self.weights > 0)
        present = answered & (np.asarray(a, dtype=bool) | np.asarray(b, dtype=bool))
        at = np.flatnonzero(present)
        u = np.zeros(len(at))
        means = []
        for sign, dom in ((1.0, a), (-1.0, b)):
            inside = (answered & np.asarray(dom, dtype=bool))[at]
            wi, yi = self.weights[at][inside], y[at][inside]
            total = float(wi.sum())
            m = float(np.dot(wi, yi) / total) if total > 0 else float("nan")
            means.append(m)
            if total > 0:
                u[inside] += sign * wi * (yi - m) / total
        var = max(float(self._variance(u[:, None], at, at)[0, 0]), 0.0)
        return DesignContrast(means[0] - means[1], float(np.sqrt(var)), float(self.degf(answered)), len(at))
