"""Crystal / interface / glass regions from a disorder profile F(z), atom labels, and per-region dynamics.

Classification of slabs (``method="threshold"``, default): crystal where F_mean < ``crystal_below`` (0.35), glass
where F_mean > ``glass_above`` (0.65), interface in between. A crystalline slab has F ~ 0.1, a random or glassy one
F ~ 1 (1.2-1.5 for dense amorphous packings), so the thresholds sit well inside the gap.

Interfaces (:func:`fit_interfaces`): on the periodic axis a crystal slab embedded in glass has two interfaces. F(z)
is fitted (least squares, slab centres) by a periodic double step

    F(z) = F_c + (F_g - F_c) S(z),  S(z) = sum_n 1/2 [tanh((z - z_1 + n L) / w_1) - tanh((z - z_2 + n L) / w_2)]

(sum over periodic images n), with glass between z_1 (crystal -> glass going up the axis) and z_2 (glass ->
crystal). Reported: positions z_1, z_2 (Å, in [0, L)), tanh widths w_1, w_2 and 10-90 % widths
2 artanh(0.8) w = 2.197 w, plateau levels F_c, F_g. Widths are bounded to [slab / 4, L / 8]: a width at the lower
bound means an interface sharper than the slabs can resolve. With ``method="fit"`` slabs within half a 10-90 width (at least
half a slab) of an interface are interface, the others crystal or glass by the side of the step they are on.

Atom labels (:func:`label_atoms`): every atom in every frame gets the code of the slab it sits in (int8, -1 none):
0 crystal, 1 interface, 2 glass (``attrs["flag_values"]``, ``attrs["flag_meanings"]``, CF style).

Per-region dynamics (:func:`region_msd`, :func:`region_dynamics`): an atom counts in the region it occupies *at
the time origin*: MSD_r(tau) = < |r_i(t0 + tau) - r_i(t0)|^2 >_{(t0, i): label(t0, i) = r}, averaged over all time
origins with the FFT algorithm (exact, see :func:`ssefeat._disorder_kernels.masked_msd`). Positions are unwrapped
and the whole system's centre-of-mass drift removed by :class:`ssefeat.dynamics.msd.PreparedPositions` (the same
preparation as ``ssefeat.dynamics.msd.mean_squared_displacement``). D = slope / 6 by least squares over a window
(given, or detected by ``ssefeat.dynamics.diffusion.diffusive_window``). Softness statistics use the label of the
same frame.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import xarray as xr

from . import _disorder_kernels as _k
from .data import cell_array, validate
from .errors import ParameterError, SchemaError, SelectionError
from .provenance import stamp
from .units import ANGSTROM2_PER_PS_TO_CM2_PER_S

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


def _longest_periodic_run(flags: np.ndarray) -> tuple[int, int] | None:
    """(start, length) of the longest run of True in a periodic boolean array; None if none or all True."""
    n = flags.size
    if not flags.any() or flags.all():
        return None
    start = int(np.argmin(flags))  # a False entry: runs cannot wrap past it
    best = (0, 0)
    run_start, run_len = None, 0
    for k in range(1, n + 1):
        i = (start + k) % n
        if flags[i]:
            if run_start is None:
                run_start, run_len = i, 0
            run_len += 1
            if run_len > best[1]:
                best = (run_start, run_len)
        else:
            run_start, run_len = None, 0
    return best


def fit_interfaces(profile, min_contrast: float = 0.2) -> dict:
    """Fit the periodic double step to F_mean(z); returns a dict (positions and widths in Å, NaN when no step).

    Keys: ``z_crystal_to_glass``, ``z_glass_to_crystal``, ``width_crystal_to_glass``, ``width_glass_to_crystal``
    (tanh widths w), ``width_10_90_*`` (2.197 w), ``F_crystal``, ``F_glass``, ``rms``, ``ok`` and ``message``.
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
    out.update(ok=False, message="")
    good = np.isfinite(y)
    if good.sum() < 4:
        out["message"] = "fewer than 4 finite slabs: no fit"
        return out
    lo, hi = np.percentile(y[good], [10, 90])
    if hi - lo < min_contrast:
        out["message"] = (f"no crystal/glass contrast: F spans {lo:.2f}-{hi:.2f} (10-90 percentile), less than "
                          f"{min_contrast}; one phase only")
        return out
    run = _longest_periodic_run(np.where(good, y > 0.5 * (lo + hi), False))
    if run is None:
        out["message"] = "no step found"
        return out
    slab = box_width / z.size
    start, length = run
    z1_0 = z[start] - 0.5 * slab
    x0 = np.array([lo, hi, z1_0, length * slab, slab, slab])
    # plateaus within the data's range, each phase at least one slab long, widths at most an eighth of the box
    # (broader "steps" are a sinusoid through noise, not two interfaces) and at least a quarter slab (sharper steps
    # cannot be resolved by slabs: a width at that bound means "sharper than the slabs")
    y_min, y_max = float(y[good].min()), float(y[good].max())
    lower = [y_min - 0.05, y_min - 0.05, z1_0 - box_width / 2, slab, 0.25 * slab, 0.25 * slab]
    upper = [y_max + 0.05, y_max + 0.05, z1_0 + box_width / 2, box_width - slab, box_width / 8, box_width / 8]
    x0 = np.clip(x0, np.array(lower) + 1e-9, np.array(upper) - 1e-9)
    out["width_lower_bound"] = 0.25 * slab

    def resid(p):
        return step_model(z[good], *p, box_width) - y[good]

    fit = least_squares(resid, x0, bounds=(lower, upper), x_scale=[0.1, 0.1, slab, slab, slab, slab])
    f_c, f_g, z1, ln, w1, w2 = fit.x
    if f_g <= f_c:
        out["message"] = "fit inverted (glass level below crystal level)"
        return out
    out.update(z_crystal_to_glass=float(z1 % box_width), z_glass_to_crystal=float((z1 + ln) % box_width),
               width_crystal_to_glass=float(w1), width_glass_to_crystal=float(w2),
               width_10_90_crystal_to_glass=float(TANH_10_90 * w1), width_10_90_glass_to_crystal=float(TANH_10_90 * w2),
               F_crystal=float(f_c), F_glass=float(f_g), rms=float(np.sqrt(np.mean(fit.fun ** 2))), ok=True,
               message="periodic double-tanh fit", glass_length=float(ln), box_width=box_width)
    return out


def find_regions(profile: xr.Dataset, crystal_below: float = 0.35, glass_above: float = 0.65,
                 method: str = "threshold", min_contrast: float = 0.2) -> xr.Dataset:
    """Regions of a disorder profile: ``region (z)`` codes, the fitted step ``F_fit (z)`` and the interfaces.

    Returns a Dataset with ``region (z)`` int8 (0 crystal, 1 interface, 2 glass, -1 none), ``F_fit (z)``,
    ``interface_position``, ``interface_width`` (tanh w) and ``interface_width_10_90`` on dim ``interface``
    (``crystal_to_glass``, ``glass_to_crystal`` going up the axis), Å; attrs: thresholds, method, fit levels and
    the profile's geometry (axis, n_slabs, box_width) so that :func:`label_atoms` can place atoms.
    """
    if method not in ("threshold", "fit"):
        raise ParameterError(f"method {method!r} is not 'threshold' or 'fit'.",
                             fix="use 'threshold' (F cut-offs, default) or 'fit' (from the fitted interfaces).")
    f = _check_profile(profile)
    code = classify_slabs(f, crystal_below, glass_above)
    fit = fit_interfaces(profile, min_contrast)
    z = np.asarray(f["z"].values)
    if fit["ok"]:
        f_fit = step_model(z, fit["F_crystal"], fit["F_glass"], fit["z_crystal_to_glass"], fit["glass_length"],
                           fit["width_crystal_to_glass"], fit["width_glass_to_crystal"], fit["box_width"])
    else:
        f_fit = np.full(z.shape, np.nan)
    if method == "fit":
        if not fit["ok"]:
            raise ParameterError(f"cannot place regions by fit: {fit['message']}.",
                                 fix="use method='threshold' (a single-phase box has no interfaces).")
        L = fit["box_width"]
        slab = L / z.size
        new = np.where((f_fit - fit["F_crystal"]) / (fit["F_glass"] - fit["F_crystal"]) > 0.5,
                       CODES["glass"], CODES["crystal"]).astype(np.int8)
        for pos, w in ((fit["z_crystal_to_glass"], fit["width_10_90_crystal_to_glass"]),
                       (fit["z_glass_to_crystal"], fit["width_10_90_glass_to_crystal"])):
            d = np.abs((z - pos + L / 2) % L - L / 2)
            new[d <= max(0.5 * w, 0.5 * slab)] = CODES["interface"]
        code = code.copy(data=new)
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
                           "min_contrast": min_contrast}, units="1", analysis="ssefeat.regions.find_regions")
    out.attrs.update(geometry)
    out.attrs.update(FLAG_ATTRS)
    out.attrs.update({"crystal_below": crystal_below, "glass_above": glass_above, "method": method,
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
        raise SchemaError(f"regions has {code.size} slabs but attrs say {n_slabs}.")
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


def _aligned_labels(ds: xr.Dataset, labels: xr.DataArray) -> np.ndarray:
    if not isinstance(labels, xr.DataArray) or labels.dims != ("frame", "atom"):
        raise SchemaError("labels must be a (frame, atom) DataArray.", fix="make them with label_atoms(ds, regions).")
    try:
        lab = labels.sel(frame=ds["frame"].values, atom=ds["atom"].values)
    except KeyError:
        raise SchemaError("the labels do not cover every frame and atom of the trajectory.",
                          fix="label the same trajectory: label_atoms(ds, regions).") from None
    return np.asarray(lab.values)


def region_msd(ds: xr.Dataset, labels: xr.DataArray, species: str | Sequence[str] | None = None,
               max_lag: float | None = None, remove_com: bool = True, timestep_ps: float | None = None,
               chunk_atoms: int = 256) -> xr.Dataset:
    """MSD per region, an atom counting in the region it occupies at the time origin.

    Parameters
    ----------
    ds : trajectory (wrapped or unwrapped), equally spaced frames.
    labels : region codes (frame, atom) from :func:`label_atoms`.
    species : atoms to follow (default all).
    max_lag : largest lag in ps (default the whole trajectory).
    remove_com : subtract the whole system's centre-of-mass drift.

    Returns
    -------
    Dataset with ``msd (lag, region)`` Å^2 and ``pairs (lag, region)`` (number of (origin, atom) pairs), coords
    ``lag`` ps, ``region`` names, ``n_atoms_at_origin (region)`` (mean over origins).
    """
    from .dynamics.msd import PreparedPositions, _check_max_lag

    lab = _aligned_labels(ds, labels)
    idx = np.arange(ds.sizes["atom"])
    if species is not None:
        wanted = [species] if isinstance(species, str) else list(species)
        present = set(ds["species"].values.tolist())
        missing = [s for s in wanted if s not in present]
        if missing:
            raise SelectionError(f"species {missing} not in the trajectory; it has {sorted(present)}.",
                                 fix="use one of the species listed (labels are case-sensitive).")
        idx = np.flatnonzero(np.isin(ds["species"].values, wanted))
    prep = PreparedPositions(ds, remove_com=remove_com, timestep_ps=timestep_ps)
    n_lag = _check_max_lag(max_lag, prep.n_frames, prep.dt) + 1
    total = np.zeros((n_lag, len(REGIONS)))
    pairs = np.zeros((n_lag, len(REGIONS)))
    for c in range(0, idx.size, chunk_atoms):
        sel = idx[c:c + chunk_atoms]
        x = prep.positions(sel)
        for r in range(len(REGIONS)):
            m = lab[:, sel] == r
            if m.any():
                tot, cnt = _k.masked_msd_sums(x, m, n_lag)
                total[:, r] += tot
                pairs[:, r] += cnt
    with np.errstate(invalid="ignore", divide="ignore"):
        msd = np.where(pairs > 0, total / np.maximum(pairs, 1), np.nan)
    n_at_origin = np.array([(lab[:, idx] == r).sum() / prep.n_frames for r in range(len(REGIONS))])
    lag = np.arange(n_lag) * prep.dt
    out = xr.Dataset({"msd": (("lag", "region"), msd, {"units": "angstrom^2"}),
                      "pairs": (("lag", "region"), pairs.astype(np.int64), {"units": "(origin, atom) pairs"})},
                     coords={"lag": ("lag", lag, {"units": "ps"}), "lag_frames": ("lag", np.arange(n_lag)),
                             "region": ("region", list(REGIONS)),
                             "n_atoms_at_origin": ("region", n_at_origin)})
    params = dict(prep.info(), species=species, max_lag_ps=max_lag,
                  assignment="region occupied at the time origin")
    return stamp(out, parameters=params, units="angstrom^2", analysis="ssefeat.regions.region_msd")


def _fit_d(lag, msd, window, label):
    """D (Å^2/ps) = slope / 6 by OLS over a window (given or detected); returns (D, start, stop, message)."""
    ok = np.isfinite(msd)
    if ok.sum() < 3:
        return np.nan, np.nan, np.nan, f"{label}: no MSD"
    if window is None:
        try:
            from .dynamics.diffusion import diffusive_window
        except ImportError:  # pragma: no cover - transport module absent
            start, stop = lag[1], 0.5 * lag[-1]
        else:
            try:
                start, stop = diffusive_window(lag[ok], msd[ok], label=label)
            except ParameterError as err:
                return np.nan, np.nan, np.nan, err.what
    else:
        start, stop = (float(v) for v in window)
    sel = ok & (lag >= start - 1e-9) & (lag <= stop + 1e-9)
    if sel.sum() < 3:
        return np.nan, start, stop, f"{label}: fewer than 3 lags in the window"
    slope = np.polyfit(lag[sel], msd[sel], 1)[0]
    return slope / 6.0, start, stop, ""


def region_dynamics(ds: xr.Dataset, labels: xr.DataArray, species: str | Sequence[str] | None = "Li",
                    softness: xr.DataArray | None = None, window: tuple[float, float] | None = None,
                    max_lag: float | None = None, remove_com: bool = True) -> xr.Dataset:
    """MSD, D and softness statistics per region (crystal, interface, glass) for the atoms of ``species``.

    Atoms count in the region they occupy at the time origin (MSD) or in the frame of the softness value.
    ``window`` (ps) is the D fit window, detected per region from the MSD's log-log slope when omitted (D is NaN,
    with the reason in ``attrs["D_messages"]``, when no diffusive window exists). ``softness`` is an optional
    (frame, atom) DataArray; its statistics use the atoms of ``species`` it covers.

    Returns the :func:`region_msd` Dataset plus ``D (region)`` Å^2/ps, ``D_cm2_s (region)``, ``window_start``,
    ``window_stop (region)`` ps, and when softness is given ``softness_mean``, ``softness_std``,
    ``softness_median``, ``fraction_soft`` (S > 0) and ``softness_samples`` per region.
    """
    out = region_msd(ds, labels, species=species, max_lag=max_lag, remove_com=remove_com)
    lag = np.asarray(out["lag"].values)
    d = np.full(len(REGIONS), np.nan)
    w0 = np.full(len(REGIONS), np.nan)
    w1 = np.full(len(REGIONS), np.nan)
    messages = []
    for r, name in enumerate(REGIONS):
        d[r], w0[r], w1[r], msg = _fit_d(lag, np.asarray(out["msd"].values[:, r]), window, name)
        if msg:
            messages.append(msg)
    out["D"] = (("region",), d, {"units": "angstrom^2/ps", "long_name": "tracer D = slope / 6"})
    out["D_cm2_s"] = (("region",), d * ANGSTROM2_PER_PS_TO_CM2_PER_S, {"units": "cm^2/s"})
    out["window_start"] = (("region",), w0, {"units": "ps"})
    out["window_stop"] = (("region",), w1, {"units": "ps"})
    out.attrs["D_messages"] = "; ".join(messages)
    if softness is not None:
        if not isinstance(softness, xr.DataArray) or softness.dims != ("frame", "atom"):
            raise SchemaError("softness must be a (frame, atom) DataArray.",
                              fix="pass the softness returned by the softness model (one value per frame and atom).")
        lab = labels
        if species is not None and "species" in labels.coords:
            wanted = [species] if isinstance(species, str) else list(species)
            lab = labels.isel(atom=np.flatnonzero(np.isin(labels["species"].values, wanted)))
        s_al, l_al = xr.align(softness, lab, join="inner")
        if s_al.size == 0:
            raise SchemaError("softness and labels share no (frame, atom).",
                              fix="compute both on the same trajectory (frame and atom coordinates must match).")
        sv = np.asarray(s_al.values, dtype=np.float64)
        lv = np.asarray(l_al.values)
        stats = {k: np.full(len(REGIONS), np.nan) for k in ("mean", "std", "median", "fraction_soft")}
        n = np.zeros(len(REGIONS), dtype=np.int64)
        for r in range(len(REGIONS)):
            v = sv[(lv == r) & np.isfinite(sv)]
            n[r] = v.size
            if v.size:
                stats["mean"][r], stats["std"][r] = v.mean(), v.std(ddof=1) if v.size > 1 else np.nan
                stats["median"][r], stats["fraction_soft"][r] = np.median(v), (v > 0).mean()
        for k, v in stats.items():
            name = "fraction_soft" if k == "fraction_soft" else f"softness_{k}"
            out[name] = (("region",), v, {"units": "1"})
        out["softness_samples"] = (("region",), n, {"units": "(frame, atom) values"})
    params = {"species": species, "window": window, "max_lag": max_lag, "remove_com": remove_com,
              "softness": softness is not None}
    stamp(out, parameters=params, analysis="ssefeat.regions.region_dynamics")
    return out
