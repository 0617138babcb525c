"""Cycles found in the data: `detect_periods` reads the periods a panel's series share off
their averaged, noise-normalised periodogram.

Apart from the calendar (`tidecast.data.calendar`), which is a pure function of timestamps and
frequency: this is statistics on the values themselves (detrending, tapering, a red-noise
background, a Gamma threshold), with helpers of its own and nothing shared with the calendar
columns. Models ask it which extra seasonal periods deserve Fourier terms.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import gammainccinv, gammaincinv

# Cells of the zero-padded spectrum matrix detect_periods may build (about 130 MB of complex128).
_MAX_CELLS = 8_000_000


def detect_periods(
    values: np.ndarray,
    indptr: np.ndarray,
    max_period: int,
    top: int = 3,
    *,
    alpha: float = 1e-3,
    max_series: int = 400,
    snap_to: Sequence[float] = (),
) -> list[int]:
    """The strongest cycles shared by the series, in steps, strongest first; [] when none is clear.

    For up to `max_series` series (spread evenly over the panel): remove a linear trend, taper
    with a Hann window (so a strong yearly cycle does not leak into false neighbours), and take
    the periodogram on a 4x zero-padded grid. Each periodogram is divided by a red-noise
    background (an AR(1) spectrum fitted to its log), which makes it unit-free and ~Exp(1) at
    every frequency when there is no cycle, so random walks and smooth trends do not pass for
    long cycles. The ratios are averaged over series, and a peak must beat the Gamma quantile
    for `alpha` after a Bonferroni correction over the frequencies tested (see `_threshold`
    for how many series count as independent). White noise, random walks and AR noise give [].

    A peak is dropped if it lies in the main lobe of one already picked or is one of its
    harmonics (7/2 and 7/3 for a weekly cycle; up to the 12th, or the 6th for a calendar
    period, so 24 survives beside 168 in hourly data), carries under 1% of the strongest peak's
    power (a leakage side lobe), or needs more than the longest series to repeat twice.
    `snap_to` holds the calendar's periods (`seasonal_periods(freq)`): a peak closer to one
    than the spectrum can resolve is reported as that period. Pass it: three years of
    daily data place a 365-day cycle only within about +-10 days, and with it the harmonics
    that must be recognised as such.
    """
    if max_period < 2 or top < 1:
        return []
    values = np.asarray(values, dtype=np.float64)
    indptr = np.asarray(indptr, dtype=np.int64)
    lengths = np.diff(indptr)
    length = int(min(lengths.max(initial=0), max(10 * max_period, 2_048)))
    eligible = np.flatnonzero(lengths >= 16)
    if len(eligible) == 0 or length < 16:
        return []
    keep = max(8, min(max_series, _MAX_CELLS // (4 * length)))  # bounds memory for long series
    if len(eligible) > keep:
        eligible = eligible[np.unique(np.linspace(0, len(eligible) - 1, keep).round().astype(np.int64))]
    rows = _tail_matrix(values, indptr[eligible + 1], np.minimum(lengths[eligible], length), length)
    rows, used = _detrend_and_taper(rows)
    rows = rows[used]
    if len(rows) == 0:
        return []
    pad = 4 * length
    power = np.abs(np.fft.rfft(rows, n=pad, axis=1)) ** 2
    freqs = np.fft.rfftfreq(pad)
    ratio = power / _red_background(power, freqs)
    share = (power / power[:, 1:].sum(axis=1, keepdims=True)).mean(axis=0)
    mean_ratio = ratio.mean(axis=0)

    # Two cycles must fit in the history, and the taper's main lobe must not overlap its mirror
    # image at the Nyquist frequency, which doubles the power there (so period 2 is not sought).
    usable = (freqs >= 1.0 / max_period) & (freqs >= 2.0 / length) & (freqs <= 0.5 - 2.0 / length)
    threshold = _threshold(mean_ratio[usable][::4], len(rows), alpha)
    peaks = np.flatnonzero(
        usable[1:-1]
        & (mean_ratio[1:-1] >= mean_ratio[:-2])
        & (mean_ratio[1:-1] > mean_ratio[2:])
        & (mean_ratio[1:-1] > threshold)
    )
    peaks += 1
    if len(peaks) == 0:
        return []
    peaks = peaks[np.argsort(-share[peaks], kind="stable")]
    resolution = 1.0 / length  # frequencies closer than this cannot be told apart
    snaps = np.array([1.0 / p for p in snap_to if p > 1], dtype=np.float64)
    picked: list[float] = []
    periods: list[int] = []
    for j in peaks:
        if share[j] < 0.01 * share[peaks[0]]:
            break
        f = _refine(share, int(j)) / pad
        snapped = len(snaps) > 0 and np.min(np.abs(snaps - f)) <= resolution
        if snapped:
            f = float(snaps[np.argmin(np.abs(snaps - f))])
        period = round(1.0 / f)
        if period < 2 or period > max_period or period in periods:
            continue
        # Harmonics up to the 12th are shape (the holiday spikes of a yearly profile put power
        # at 365/8, 365/10...), except that beyond the 6th a calendar period stays: 24 hours
        # is the 7th harmonic of a week, and models want both.
        if any(_near(f, g, resolution, 6 if snapped else 12) for g in picked):
            continue
        # A fractional period picked earlier that is a harmonic of this peak was only the shape
        # of its cycle (a spiky weekly profile can put more power at 7/3 steps than at 7): this
        # fundamental takes its place. Whole periods stay (7 remains beside a 28-step cycle).
        shapes = [
            i for i, g in enumerate(picked) if _near(g, f, resolution, 6) and abs(1 / g - round(1 / g)) > 0.1
        ]
        if shapes:
            picked[shapes[0]], periods[shapes[0]] = f, period
            for i in reversed(shapes[1:]):
                del picked[i], periods[i]
        else:
            picked.append(f)
            periods.append(period)
    return periods[:top]


def _tail_matrix(values: np.ndarray, ends: np.ndarray, counts: np.ndarray, length: int) -> np.ndarray:
    """The last `counts[i]` values before `ends[i]` in row i, left-aligned, NaN-padded."""
    matrix = np.full((len(ends), length), np.nan)
    row = np.repeat(np.arange(len(ends)), counts)
    col = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    matrix[row, col] = values[np.repeat(ends - counts, counts) + col]
    return matrix


def _detrend_and_taper(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Residuals of a per-row least-squares line, Hann-tapered over each row's own span.

    Missing values (and the padding) become 0, the residual mean, so they add no power.
    Rows with fewer than 16 observations or no variation are flagged unusable.
    """
    observed = np.isfinite(rows)
    t = np.broadcast_to(np.arange(rows.shape[1], dtype=np.float64), rows.shape)
    y = np.where(observed, rows, 0.0)
    n = observed.sum(axis=1)
    safe = np.maximum(n, 1)
    t_mean = (t * observed).sum(axis=1) / safe
    y_mean = y.sum(axis=1) / safe
    tc = np.where(observed, t - t_mean[:, None], 0.0)
    slope = (tc * y).sum(axis=1) / np.maximum((tc * tc).sum(axis=1), 1e-12)
    residual = np.where(observed, y - y_mean[:, None] - slope[:, None] * tc, 0.0)
    span = observed.shape[1] - np.argmax(observed[:, ::-1], axis=1)  # one past the last observation
    taper = 0.5 - 0.5 * np.cos(2 * np.pi * (t + 0.5) / np.maximum(span, 1)[:, None])
    residual = np.where(t < span[:, None], residual * taper, 0.0)
    scale = np.sqrt((residual**2).sum(axis=1))
    used = (n >= 16) & (scale > 1e-9 * np.maximum(np.abs(y_mean), 1.0))
    return residual, used


def _red_background(power: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """Per row, the AR(1) spectrum c / (1 + phi^2 - 2 phi cos 2 pi f) that fits log power best.

    The fit is a least-squares line in log space over a grid of phi, on every 4th frequency
    (the independent ones): the few cycle peaks barely move a mean of logs, and the whole grid
    is one matrix product. Under no cycle, power / background is about Exp(1), whose log has
    mean -0.5772 (Euler's constant), hence the correction of the level.
    """
    phis = np.concatenate([np.linspace(0.0, 0.9, 19), 1 - np.geomspace(0.09, 0.001, 12)])
    sample = slice(4, None, 4)  # skip the zero frequency
    log_shape = -np.log(1 + phis[:, None] ** 2 - 2 * phis[:, None] * np.cos(2 * np.pi * freqs[None, sample]))
    log_power = np.log(np.maximum(power[:, sample], 1e-300))
    # Sum of squared residuals of log_power - log_shape - level, minimised over the level, per phi.
    centred_shape = log_shape - log_shape.mean(axis=1, keepdims=True)
    centred_power = log_power - log_power.mean(axis=1, keepdims=True)
    misfit = (centred_shape**2).sum(axis=1)[None, :] - 2 * centred_power @ centred_shape.T
    best = np.argmin(misfit, axis=1)
    level = (log_power - log_shape[best]).mean(axis=1) + np.euler_gamma
    phi = phis[best][:, None]
    shape = 1 + phi**2 - 2 * phi * np.cos(2 * np.pi * freqs[None, :])
    return np.exp(level)[:, None] / shape


def _threshold(null: np.ndarray, n_rows: int, alpha: float) -> float:
    """The level a mean ratio must pass: the Gamma tail for `alpha` / tests, at the observed scale.

    Averaging n independent Exp(1) ratios gives Gamma(n, 1/n), but series that share noise
    average to something far wider. The effective count is read off the spread of the ratios
    themselves (their 95th percentile over the median, compared with Gamma's: the tail is
    what matters, and shared noise fattens it more than it widens the middle), capped at
    20 so that a slight misfit of the background cannot pass for a cycle in a huge panel, and
    the level is taken from their median, so a background fitted a little low moves it too.
    """
    if len(null) == 0:
        return float("inf")
    median, high = np.quantile(null, [0.5, 0.95])
    counts = np.arange(1, min(n_rows, 20) + 1)
    spreads = gammaincinv(counts, 0.95) / gammaincinv(counts, 0.5)
    wide_enough = counts[spreads >= high / max(median, 1e-300)]
    counted = int(wide_enough.max()) if len(wide_enough) else 1
    # The padded grid finds maxima between the independent frequencies too: count twice as many.
    tail = gammainccinv(counted, alpha / (2 * len(null))) / gammaincinv(counted, 0.5)
    return float(tail * median)


def _refine(curve: np.ndarray, j: int) -> float:
    """The peak position between grid points, from a parabola through log values at j-1, j, j+1."""
    a, b, c = np.log(np.maximum(curve[j - 1 : j + 2], 1e-300))
    denominator = a - 2 * b + c
    if denominator >= 0:
        return float(j)
    return float(j + 0.5 * (a - c) / denominator)


def _near(f: float, g: float, resolution: float, max_harmonic: int) -> bool:
    """Whether f lies in the main lobe of g, or within half a bin of a harmonic k x g.

    Harmonics stop at `max_harmonic`: those of a long period are so dense that every
    frequency would be "near" one of them.
    """
    if abs(f - g) <= 2.5 * resolution:
        return True
    k = round(f / g)
    return 2 <= k <= max_harmonic and abs(f - k * g) <= 0.5 * resolution
