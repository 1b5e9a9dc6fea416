"""Crystal / interface / glass regions from a disorder profile F(z), and the region of every atom.

Is there an interface? (:func:`step_significance`). A box holds a crystal and a glass only if F(z) has a step
that stands out of the slab-to-slab scatter. Over every periodic split of the slabs into two contiguous arcs A, B
(at least two slabs each) the contrast Delta = |<F>_A - <F>_B| is compared with the noise of one slab's F_mean,

    z = Delta / (sigma sqrt(1/n_A + 1/n_B)),   sigma^2 = max(s_w^2, <se^2>),

with s_w^2 the pooled variance of the slabs about their arc means (the scatter inside each phase) and se the
standard error of each slab's time average (F_std / sqrt(n_frames - 1); zero for one frame). The largest z is the
contiguous two-level (Otsu-like) split. Its significance is a Monte Carlo test (``n_samples`` seeded samples)
against flat profiles ("no interface") in which every slab scatters with Gaussian noise of standard deviation
sqrt(max(s_w^2, se_z^2)), scanned by the same rule: p = (1 + #{z_flat >= z}) / (n_samples + 1). Without frames (or
with se below s_w) this is the classic scan statistic of the best of all splits, free of the noise scale; with
several frames the step must also stand out of each slab's frame-to-frame noise (MD frames are correlated, so se
alone would be optimistic; s_w is not). The step is significant when p <= ``alpha`` (0.01) and Delta >=
``min_contrast`` (0.2: a random slab's F scatters by ~0.1-0.2 per frame, so a smaller contrast is no
crystal/glass difference even when it is statistically resolved).

Interfaces (:func:`fit_interfaces`): on the periodic axis a crystal slab embedded in glass has two interfaces. A
significant step is fitted (least squares, slab centres, started from the best split) by a periodic double step

    F(z) = F_c + (F_g - F_c) S(z),  S(z) = sum_n 1/2 [tanh((z - z_1 + n L) / w_1) - tanh((z - z_2 + n L) / w_2)]

(sum over periodic images n), with glass between z_1 (crystal -> glass going up the axis) and z_2 (glass ->
crystal). Reported: positions z_1, z_2 (Å, in [0, L)), tanh widths w_1, w_2 and 10-90 % widths
2 artanh(0.8) w = 2.197 w, plateau levels F_c, F_g. Widths are bounded to [slab / 4, L / 8]: a width at the lower
bound means an interface sharper than the slabs can resolve. Without a significant step nothing is fitted and the
positions are NaN ("no interface").

Classification of slabs (:func:`find_regions`):

- ``method="adaptive"`` (default): thresholds relative to the sample's own levels. With a significant step, the
  plateaus F_c, F_g of the double-tanh fit (the split's arc means if the fit fails) define x = (F - F_c) /
  (F_g - F_c); crystal where x < ``crystal_below`` (0.35), glass where x > ``glass_above`` (0.65), interface in
  between. The crystal's own F level depends on the sample (a crystal with few unit cells per slab, or a hot one,
  reads F ~ 0.3-0.5 instead of ~0.1), so fixed F cut-offs mislabel small or hot crystals; relative ones do not.
  Without a significant step the box is one phase and every slab gets the same class: crystal if the median F is
  below ``single_phase_split`` (0.5, halfway between a perfect crystal, 0, and a random slab, 1), else glass.
- ``method="threshold"``: the same numbers as fixed F cut-offs (crystal F < 0.35, glass F > 0.65): a crystalline
  slab of a large, cool crystal has F ~ 0.1, a random or glassy one F ~ 1 (1.2-1.5 for dense amorphous packings).
- ``method="fit"``: slabs within half a 10-90 width (at least half a slab) of a fitted interface are interface, the
  others crystal or glass by the side of the step they are on.

The F cut-offs used are in ``attrs["F_threshold_crystal"]`` / ``attrs["F_threshold_glass"]``, the rule in words in
``attrs["rule"]``.

Atom labels (:func:`label_atoms`): every atom in every frame gets the code of the slab it sits in (int8, -1 none):
0 crystal, 1 interface, 2 glass (``attrs["flag_values"]``, ``attrs["flag_meanings"]``, CF style).

Per-region MSD, D and softness statistics live in :mod:`ssefeat.dynamics.region_dynamics`.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from . import _disorder_kernels as _k
from .data import cell_array, validate
from .errors import ParameterError, SchemaError
from .provenance import stamp

REGIONS = ("crystal", "interface", "glass")
CODES = {name: i for i, name in enumerate(REGIONS)}
NONE = -1
FLAG_ATTRS = {"flag_values": [0, 1, 2], "flag_meanings": "crystal interface glass",
              "legend": "0=crystal 1=interface 2=glass -1=none"}
TANH_10_90 = 2.0 * np.arctanh(0.8)


def _check_profile(profile) -> xr.DataArray:
    if isinstance(profile, xr.Dataset):
        if "F_mean" not in profile:
            raise SchemaError("the profile has no 'F_mean' variable.",
                              fix="pass the Dataset returned by ssefeat.disorder.disorder_profile.")
        f = profile["F_mean"]
    elif isinstance(profile, xr.DataArray):
        f = profile
    else:
        raise SchemaError(f"expected a disorder profile Dataset or an F(z) DataArray, got {type(profile).__name__}.",
                          fix="pass the Dataset returned by ssefeat.disorder.disorder_profile.")
    if f.dims != ("z",):
        raise SchemaError(f"F has dims {f.dims}; expected ('z',).", fix="pass F_mean (z), or F.isel(frame=i).")
    return f


def classify_slabs(F, crystal_below: float = 0.35, glass_above: float = 0.65) -> xr.DataArray:
    """Region code per slab from F: 0 crystal (F < crystal_below), 2 glass (F > glass_above), 1 between, -1 NaN."""
    if not crystal_below <= glass_above:
        raise ParameterError(f"crystal_below={crystal_below} is above glass_above={glass_above}.",
                             fix="use crystal_below <= glass_above (defaults 0.35 and 0.65).")
    f = _check_profile(F)
    v = np.asarray(f.values, dtype=np.float64)
    code = np.full(v.shape, CODES["interface"], dtype=np.int8)
    code[v < crystal_below] = CODES["crystal"]
    code[v > glass_above] = CODES["glass"]
    code[~np.isfinite(v)] = NONE
    return xr.DataArray(code, dims=("z",), coords={"z": f["z"]}, name="region",
                        attrs=dict(FLAG_ATTRS, crystal_below=crystal_below, glass_above=glass_above))


def step_model(z, f_c, f_g, z1, length, w1, w2, box_width):
    """The periodic double-tanh step: F_c in the crystal, F_g in the glass between z1 and z1 + length (Å)."""
    z = np.asarray(z, dtype=np.float64)
    s = np.zeros_like(z)
    for n in range(-2, 3):
        s += 0.5 * (np.tanh((z - z1 + n * box_width) / w1) - np.tanh((z - z1 - length + n * box_width) / w2))
    return f_c + (f_g - f_c) * s


def _slab_standard_error(profile) -> np.ndarray | None:
    """Standard error of each slab's time-averaged F (F_std / sqrt(n_frames - 1)), None without frames."""
    if not isinstance(profile, xr.Dataset) or "F_std" not in profile or "F" not in profile:
        return None
    n_frames = profile["F"].sizes.get("frame", 1)
    if n_frames < 2:
        return None
    return np.asarray(profile["F_std"].values, dtype=np.float64) / np.sqrt(n_frames - 1)


def step_significance(profile, alpha: float = 0.01, min_contrast: float = 0.2, n_samples: int = 999,
                      seed: int = 0) -> dict:
    """Does F(z) hold a crystal/glass step? Best two-arc split, its z against the slab scatter, Monte Carlo p.

    See the module docstring for the statistic. ``n_samples`` is the number of Monte Carlo samples of the
    no-interface reference. Returns a dict: ``significant`` (bool), ``p_value``, ``z``, ``contrast`` (glass arc
    mean - crystal arc mean), ``slab_noise`` (sigma, the per-slab scatter used), ``noise_from`` ("scatter within
    the arcs" or "standard error over frames"), ``low_mean``, ``high_mean``, ``high_start`` (index of the first
    slab of the high-F arc among the finite slabs), ``high_length``, ``n_slabs`` (finite slabs), ``message``.
    """
    for name, value, ok in (("alpha", alpha, 0 < alpha < 1), ("n_samples", n_samples, int(n_samples) >= 19),
                            ("min_contrast", min_contrast, min_contrast >= 0)):
        if not ok:
            raise ParameterError(f"{name}={value!r} is out of range.",
                                 fix="use 0 < alpha < 1 (default 0.01), n_samples >= 19 (default 999) and "
                                     "min_contrast >= 0 (default 0.2).")
    f = _check_profile(profile)
    y = np.asarray(f.values, dtype=np.float64)
    good = np.isfinite(y)
    out = {"significant": False, "p_value": np.nan, "z": np.nan, "contrast": np.nan, "slab_noise": np.nan,
           "noise_from": "", "low_mean": np.nan, "high_mean": np.nan, "high_start": -1, "high_length": 0,
           "n_slabs": int(good.sum()), "alpha": float(alpha), "min_contrast": float(min_contrast),
           "n_samples": int(n_samples), "message": ""}
    if good.sum() < 4:
        out["message"] = "fewer than 4 finite slabs: cannot test for a step"
        return out
    yg = y[good]
    se = _slab_standard_error(profile)
    floor = float(np.mean(se[good] ** 2)) if se is not None else 0.0
    z, start, length, ma, mb = (v[0] for v in _k.two_arc_scan(yg, floor))
    n = yg.size
    if ma > mb:
        high_start, high_length, high, low = int(start), int(length), float(ma), float(mb)
    else:
        high_start, high_length, high, low = int((start + length) % n), int(n - length), float(mb), float(ma)
    contrast = high - low
    arc = np.zeros(n, bool)
    arc[(int(start) + np.arange(int(length))) % n] = True
    s_w2 = (((yg[arc] - yg[arc].mean()) ** 2).sum() + ((yg[~arc] - yg[~arc].mean()) ** 2).sum()) / (n - 2)
    sigma = float(np.sqrt(max(s_w2, floor)))
    # reference without an interface: flat profiles, each slab with Gaussian noise of sd sqrt(max(s_w^2, se_z^2)),
    # scanned by the same rule (without frames the null of z is scale-free: the classic two-arc scan statistic)
    noise = np.sqrt(np.maximum(s_w2, se[good] ** 2)) if se is not None else np.full(n, np.sqrt(s_w2))
    rng = np.random.default_rng(seed)
    flat = yg.mean() + rng.standard_normal((int(n_samples), n)) * noise
    z_null = _k.two_arc_scan(flat, floor)[0]
    p = (1.0 + np.count_nonzero(z_null >= z * (1 - 1e-12))) / (int(n_samples) + 1.0)
    significant = bool(p <= alpha and contrast >= min_contrast)
    if significant:
        message = f"step F {low:.2f} -> {high:.2f} (z = {z:.1f}, p = {p:.3g})"
    elif contrast < min_contrast:
        message = (f"no interface: the best two-level split differs by {contrast:.2f} in F (< min_contrast "
                   f"{min_contrast}); one phase only")
    else:
        message = (f"no interface: the best two-level split (F {low:.2f} vs {high:.2f}, z = {z:.1f}) is not "
                   f"significant against the slab scatter (p = {p:.3g} > alpha {alpha}); one phase only")
    out.update(significant=significant, p_value=float(p), z=float(z), contrast=float(contrast),
               slab_noise=float(sigma),
               noise_from="standard error over frames" if floor > 0 and sigma ** 2 <= floor * (1 + 1e-9)
               else "scatter within the arcs",
               low_mean=low, high_mean=high, high_start=high_start, high_length=high_length, message=message)
    return out


def fit_interfaces(profile, min_contrast: float = 0.2, alpha: float = 0.01, n_samples: int = 999,
                   seed: int = 0) -> dict:
    """Fit the periodic double step to F_mean(z) when :func:`step_significance` finds a step; returns a dict.

    Keys: ``z_crystal_to_glass``, ``z_glass_to_crystal``, ``width_crystal_to_glass``, ``width_glass_to_crystal``
    (tanh widths w, Å), ``width_10_90_*`` (2.197 w), ``F_crystal``, ``F_glass``, ``rms``, ``ok``, ``message`` and
    ``significance`` (the :func:`step_significance` dict). Positions NaN and ``ok`` False without a significant
    step ("no interface").
    """
    from scipy.optimize import least_squares

    f = _check_profile(profile)
    box_width = float(profile.attrs.get("box_width", np.nan)) if isinstance(profile, xr.Dataset) else np.nan
    z = np.asarray(f["z"].values, dtype=np.float64)
    if not np.isfinite(box_width):
        box_width = float(z[-1] + z[0]) if z.size > 1 else np.nan  # centres of equal slabs from 0 to L
    y = np.asarray(f.values, dtype=np.float64)
    keys = ("z_crystal_to_glass", "z_glass_to_crystal", "width_crystal_to_glass", "width_glass_to_crystal",
            "width_10_90_crystal_to_glass", "width_10_90_glass_to_crystal", "F_crystal", "F_glass", "rms")
    out = {k: float("nan") for k in keys}
    sig = step_significance(profile, alpha=alpha, min_contrast=min_contrast, n_samples=n_samples, seed=seed)
    out.update(ok=False, message=sig["message"], significance=sig)
    if not sig["significant"]:
        return out
    good = np.isfinite(y)
    zg = z[good]
    slab = box_width / z.size
    first = zg[sig["high_start"]]
    length = sig["high_length"] * slab
    z1_0 = first - 0.5 * slab
    lo, hi = sig["low_mean"], sig["high_mean"]
    # plateaus within the data's range, each phase at least one slab long, widths at most an eighth of the box
    # (broader "steps" are a sinusoid through noise, not two interfaces) and at least a quarter slab (sharper steps
    # cannot be resolved by slabs: a width at that bound means "sharper than the slabs")
    y_min, y_max = float(y[good].min()), float(y[good].max())
    lower = [y_min - 0.05, y_min - 0.05, z1_0 - box_width / 2, slab, 0.25 * slab, 0.25 * slab]
    upper = [y_max + 0.05, y_max + 0.05, z1_0 + box_width / 2, box_width - slab, box_width / 8, box_width / 8]
    x0 = np.clip(np.array([lo, hi, z1_0, min(length, box_width - slab), slab, slab]), np.array(lower) + 1e-9,
                 np.array(upper) - 1e-9)
    out["width_lower_bound"] = 0.25 * slab

    def resid(p):
        return step_model(zg, *p, box_width) - y[good]

    fit = least_squares(resid, x0, bounds=(lower, upper), x_scale=[0.1, 0.1, slab, slab, slab, slab])
    f_c, f_g, z1, ln, w1, w2 = fit.x
    if f_g <= f_c:
        out["message"] = "fit inverted (glass level below crystal level)"
        return out
    out.update(z_crystal_to_glass=float(z1 % box_width), z_glass_to_crystal=float((z1 + ln) % box_width),
               width_crystal_to_glass=float(w1), width_glass_to_crystal=float(w2),
               width_10_90_crystal_to_glass=float(TANH_10_90 * w1), width_10_90_glass_to_crystal=float(TANH_10_90 * w2),
               F_crystal=float(f_c), F_glass=float(f_g), rms=float(np.sqrt(np.mean(fit.fun ** 2))), ok=True,
               message=f"periodic double-tanh fit; {sig['message']}", glass_length=float(ln), box_width=box_width)
    return out


METHODS = ("adaptive", "threshold", "fit")


def find_regions(profile: xr.Dataset, crystal_below: float = 0.35, glass_above: float = 0.65,
                 method: str = "adaptive", min_contrast: float = 0.2, alpha: float = 0.01, n_samples: int = 999,
                 seed: int = 0, single_phase_split: float = 0.5) -> xr.Dataset:
    """Regions of a disorder profile: ``region (z)`` codes, the fitted step ``F_fit (z)`` and the interfaces.

    ``method``: "adaptive" (default; ``crystal_below`` / ``glass_above`` are fractions of the way from the
    sample's crystal level to its glass level), "threshold" (they are fixed F values) or "fit" (regions from the
    fitted interfaces); see the module docstring. ``min_contrast``, ``alpha``, ``n_samples``, ``seed``: the
    interface test of :func:`step_significance`. ``single_phase_split``: F below which a box without a
    significant step is all crystal (adaptive method).

    Returns a Dataset with ``region (z)`` int8 (0 crystal, 1 interface, 2 glass, -1 none), ``F_fit (z)``,
    ``interface_position``, ``interface_width`` (tanh w) and ``interface_width_10_90`` on dim ``interface``
    (``crystal_to_glass``, ``glass_to_crystal`` going up the axis), Å, NaN when there is no significant
    interface; attrs: the rule (``rule``, ``F_threshold_crystal``, ``F_threshold_glass``, ``levels_from``), the
    interface test (``interface_significant``, ``interface_p_value``, ``interface_z``, ``contrast``,
    ``slab_noise``), the fit levels and the profile's geometry (axis, n_slabs, box_width) for :func:`label_atoms`.
    """
    if method not in METHODS:
        raise ParameterError(f"method {method!r} is not 'adaptive', 'threshold' or 'fit'.",
                             fix="use 'adaptive' (thresholds relative to the sample's crystal and glass levels, "
                                 "default), 'threshold' (fixed F cut-offs) or 'fit' (from the fitted interfaces).")
    if not (np.isfinite(single_phase_split) and single_phase_split > 0):
        raise ParameterError(f"single_phase_split={single_phase_split!r} must be a positive F value.",
                             fix="use 0.5 (halfway between a crystal, F ~ 0, and a random slab, F = 1).")
    f = _check_profile(profile)
    code = classify_slabs(f, crystal_below, glass_above)  # also checks crystal_below <= glass_above
    fit = fit_interfaces(profile, min_contrast, alpha=alpha, n_samples=n_samples, seed=seed)
    sig = fit["significance"]
    z = np.asarray(f["z"].values)
    v = np.asarray(f.values, dtype=np.float64)
    if fit["ok"]:
        f_fit = step_model(z, fit["F_crystal"], fit["F_glass"], fit["z_crystal_to_glass"], fit["glass_length"],
                           fit["width_crystal_to_glass"], fit["width_glass_to_crystal"], fit["box_width"])
    else:
        f_fit = np.full(z.shape, np.nan)
    thr_c, thr_g = float(crystal_below), float(glass_above)
    levels_from = "absolute (perfect crystal 0, random slab 1)"
    if method == "threshold":
        rule = (f"fixed F cut-offs: crystal F < {thr_c:g}, glass F > {thr_g:g}, interface between")
    elif method == "adaptive":
        if sig["significant"]:
            if fit["ok"]:
                f_c, f_g, levels_from = fit["F_crystal"], fit["F_glass"], "double-tanh fit plateaus"
            else:
                f_c, f_g, levels_from = sig["low_mean"], sig["high_mean"], "two-level split means"
            thr_c = f_c + crystal_below * (f_g - f_c)
            thr_g = f_c + glass_above * (f_g - f_c)
            code = classify_slabs(f, thr_c, thr_g)
            rule = (f"relative to the sample's levels F_c = {f_c:.3f}, F_g = {f_g:.3f} ({levels_from}): "
                    f"x = (F - F_c) / (F_g - F_c); crystal x < {crystal_below:g} (F < {thr_c:.3f}), glass x > "
                    f"{glass_above:g} (F > {thr_g:.3f}), interface between")
        else:
            phase = "crystal" if np.nanmedian(v) < single_phase_split else "glass"
            new = np.where(np.isfinite(v), CODES[phase], NONE).astype(np.int8)
            code = code.copy(data=new)
            thr_c = thr_g = float(single_phase_split)
            rule = (f"no significant crystal/glass step: one phase, all slabs {phase} (median F "
                    f"{np.nanmedian(v):.3f} {'<' if phase == 'crystal' else '>='} single_phase_split "
                    f"{single_phase_split:g})")
            levels_from = "none (single phase)"
    else:  # fit
        if not fit["ok"]:
            raise ParameterError(f"cannot place regions by fit: {fit['message']}.",
                                 fix="use method='adaptive' or 'threshold' (a single-phase box has no interfaces).")
        L = fit["box_width"]
        slab = L / z.size
        new = np.where((f_fit - fit["F_crystal"]) / (fit["F_glass"] - fit["F_crystal"]) > 0.5,
                       CODES["glass"], CODES["crystal"]).astype(np.int8)
        for pos, w in ((fit["z_crystal_to_glass"], fit["width_10_90_crystal_to_glass"]),
                       (fit["z_glass_to_crystal"], fit["width_10_90_glass_to_crystal"])):
            d = np.abs((z - pos + L / 2) % L - L / 2)
            new[d <= max(0.5 * w, 0.5 * slab)] = CODES["interface"]
        new[~np.isfinite(v)] = NONE
        code = code.copy(data=new)
        thr_c = thr_g = fit["F_crystal"] + 0.5 * (fit["F_glass"] - fit["F_crystal"])
        levels_from = "double-tanh fit plateaus"
        rule = ("fitted interfaces: interface within half a 10-90 width (at least half a slab) of a fitted "
                "interface position, crystal / glass by the side of the fitted step")
    code.attrs.update(crystal_below=thr_c, glass_above=thr_g)
    names = np.array([REGIONS[c] if c >= 0 else "none" for c in code.values])
    out = xr.Dataset(
        {"region": code, "region_name": (("z",), names),
         "F": f.copy(), "F_fit": (("z",), f_fit, {"units": "1", "long_name": "periodic double-tanh fit"}),
         "interface_position": (("interface",), [fit["z_crystal_to_glass"], fit["z_glass_to_crystal"]],
                                {"units": "angstrom"}),
         "interface_width": (("interface",), [fit["width_crystal_to_glass"], fit["width_glass_to_crystal"]],
                             {"units": "angstrom", "long_name": "tanh width w"}),
         "interface_width_10_90": (("interface",), [fit["width_10_90_crystal_to_glass"],
                                                   fit["width_10_90_glass_to_crystal"]],
                                   {"units": "angstrom", "long_name": "10-90 % width, 2 artanh(0.8) w"})},
        coords={"interface": ["crystal_to_glass", "glass_to_crystal"]})
    for name in ("z_lo", "z_hi"):
        if isinstance(profile, xr.Dataset) and name in profile.coords:
            out = out.assign_coords({name: profile[name]})
    geometry = {k: profile.attrs[k] for k in ("axis", "axis_index", "n_slabs", "box_width")
                if isinstance(profile, xr.Dataset) and k in profile.attrs}
    stamp(out, parameters={"crystal_below": crystal_below, "glass_above": glass_above, "method": method,
                           "min_contrast": min_contrast, "alpha": alpha, "n_samples": n_samples, "seed": seed,
                           "single_phase_split": single_phase_split},
          units="1", analysis="ssefeat.regions.find_regions")
    out.attrs.update({**geometry, **FLAG_ATTRS, "crystal_below": crystal_below, "glass_above": glass_above,
                      "method": method, "rule": rule, "levels_from": levels_from, "F_threshold_crystal": float(thr_c),
                      "F_threshold_glass": float(thr_g),
                      "interface_significant": int(sig["significant"]), "interface_p_value": sig["p_value"],
                      "interface_z": sig["z"], "contrast": sig["contrast"], "slab_noise": sig["slab_noise"],
                      "slab_noise_from": sig["noise_from"],
                      "fit_ok": int(fit["ok"]), "fit_message": fit["message"], "F_crystal": fit["F_crystal"],
                      "F_glass": fit["F_glass"], "fit_rms": fit["rms"]})
    return out


def label_atoms(ds: xr.Dataset, regions: xr.Dataset) -> xr.DataArray:
    """Region code of every atom in every frame (int8 (frame, atom): 0 crystal, 1 interface, 2 glass, -1 none).

    An atom takes the code of the slab its position falls in (fractional coordinate along the profile's axis,
    slabs of the profile); frames and atoms keep the trajectory's coordinates.
    """
    validate(ds, require_cell=True)
    for key in ("axis_index", "n_slabs"):
        if key not in regions.attrs:
            raise SchemaError(f"the regions Dataset has no attrs['{key}'].",
                              fix="make it with ssefeat.regions.find_regions(disorder_profile(...)).")
    ax = int(regions.attrs["axis_index"])
    n_slabs = int(regions.attrs["n_slabs"])
    code = np.asarray(regions["region"].values, dtype=np.int8)
    if code.size != n_slabs:
        raise SchemaError(f"regions has {code.size} slabs but attrs say {n_slabs}.",
                          fix="pass the unmodified output of ssefeat.regions.find_regions(disorder_profile(...)).")
    cells = cell_array(ds)
    labels = np.empty((ds.sizes["frame"], ds.sizes["atom"]), dtype=np.int8)
    for f in range(ds.sizes["frame"]):  # one frame of positions in memory at a time
        pos = np.asarray(ds["positions"].isel(frame=f).values, dtype=np.float64)
        s = (pos @ np.linalg.inv(cells[f]))[:, ax] % 1.0
        labels[f] = code[np.minimum((s * n_slabs).astype(np.int64), n_slabs - 1)]
    coords = {"frame": ds["frame"], "atom": ds["atom"], "species": ds["species"]}
    if "time" in ds.coords:
        coords["time"] = ds["time"]
    da = xr.DataArray(labels, dims=("frame", "atom"), coords=coords, name="region")
    stamp(da, parameters={"axis": "abc"[ax], "n_slabs": n_slabs}, units="1", analysis="ssefeat.regions.label_atoms")
    da.attrs.update(FLAG_ATTRS)
    return da
