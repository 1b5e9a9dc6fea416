"""A glass study's results as one xarray DataTree (``study.nc``), and back to the result dict the report is made from.

Layout::

    /                    attrs: softness_temperature_K, barrier_glass, settings (JSON), temperature_plan (JSON: the
                         temperatures each cross-glass comparison uses and the runs it leaves out,
                         :mod:`.temperature_plan`), common_temperatures_K, runs_left_out_of_softness,
                         result_json (every number of study.json, NaN kept, from which :func:`result_from_tree`
                         rebuilds the report);
                         counts / s_fraction (glass, anion): the composition of each glass
    /glasses/<glass>     softness (frame, atom); histogram (bin, density of S); transport_* (run: temperature_K,
                         D_cm2_s, D_cm2_s_err, sigma_S_cm, sigma_err, verdict); link_* (quantity: Pearson r,
                         ci_low, ci_high, p_value, n samples, n_groups ions); by_anion_* (anion_type, where = within /
                         nearest: mean, mean_se_ions, median, fraction_soft, n_ions, n_samples); attrs E_a_eV,
                         E_a_err_eV and the held-out accuracy of the pooled model on this glass
    /glasses/<glass>/extras   softness, potential_energy (eV), voronoi_volume (Å^3) per (extras_frame, atom)
                         at the frames the Fig. 5-9 links and figures use
    /pooled              the one softness model (attrs), histogram_edges, pooled per-ion links and the links across
                         glasses (quantity), the E_a trend (attrs), the comparison with the thesis (statement)
    /pooled/rdf          Li-S RDFs by anion type of soft and hard Li
    /barriers            one row per NEB band (band: band_glass, atom, kind, S, barrier_forward, ..., converged); per
                         barrier glass (barrier_glass: soft_/hard_ n, median, mean, se in eV, p_mannwhitney, min_p,
                         n_unconverged, n_skipped, frame or n_events, -1 when not applicable); the pooled test in attrs
"""
from __future__ import annotations

import json
import math

import numpy as np
import xarray as xr

__all__ = ["study_tree", "result_from_tree", "plain"]


def plain(obj, keep_nan: bool = False):
    """``obj`` with numpy values as Python ones and DataArrays dropped (None); NaN / inf as None unless kept."""
    if isinstance(obj, dict):
        return {str(k): plain(v, keep_nan) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v, keep_nan) for v in obj]
    if isinstance(obj, np.ndarray):
        return plain(obj.tolist(), keep_nan)
    if isinstance(obj, (np.floating, float)):
        return float(obj) if keep_nan or math.isfinite(float(obj)) else None
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if hasattr(obj, "dims"):  # arrays live in the tree's nodes, not in the JSON record
        return None
    return obj


_ARRAYS = ("softness", "rdf", "extras")  # result keys held as xarray objects, not in result_json


def _scalar(v) -> bool:
    return isinstance(v, (int, float, bool, str, np.integer, np.floating, np.bool_)) or v is None


def _bare(da: xr.DataArray) -> xr.DataArray:
    """``da`` without its coordinates other than frame and atom."""
    return da.drop_vars([c for c in da.coords if c not in ("frame", "atom")])


def _rows(rows: dict, dim: str, prefix: str = "") -> xr.Dataset:
    """``{name: {field: scalar}}`` as a Dataset over ``dim`` (fields missing in a row: NaN), variables named
    ``<prefix>_<field>`` when a prefix is given."""
    names = list(rows)
    fields = list(dict.fromkeys(f for r in rows.values() for f, v in r.items() if _scalar(v)))
    data = {}
    for f in fields:
        vals = [rows[n].get(f, np.nan) for n in names]
        if any(isinstance(v, str) for v in vals):
            data[f] = (dim, np.array(["" if v is None else str(v) for v in vals]))
        elif all(isinstance(v, (bool, np.bool_)) for v in vals):  # netCDF has no bool: 0 / 1
            data[f] = (dim, np.array(vals, dtype=np.int8), {"flag_values": "0 = false, 1 = true"})
        elif all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in vals):
            data[f] = (dim, np.array(vals, dtype=np.int64))
        else:
            data[f] = (dim, np.array([np.nan if v is None else v for v in vals], dtype=float))
    return xr.Dataset({f"{prefix}_{f}" if prefix else f: v for f, v in data.items()}, coords={dim: names})


def _glass_node(res: dict, g: str) -> dict:
    pg, t = res["per_glass"][g], res["transport"][g]
    acc = res["model"]["accuracy"].get(g, {})
    ci = acc.get("balanced_accuracy_ci", [np.nan, np.nan])
    ds = xr.Dataset({"histogram": ("bin", np.asarray(pg["summary"]["histogram"], float))},
                    attrs={"E_a_eV": t["E_a_eV"], "E_a_err_eV": t["E_a_err_eV"],
                           "arrhenius_note": t.get("arrhenius_note", ""),
                           "balanced_accuracy": acc.get("balanced_accuracy", np.nan),
                           "balanced_accuracy_ci_low": ci[0], "balanced_accuracy_ci_high": ci[1],
                           **{f"softness_{k}": v for k, v in pg["summary"].items() if _scalar(v)}})
    ds["histogram"].attrs = {"long_name": "probability density of S on /pooled histogram_edges", "units": "1"}
    ds = ds.merge(_rows({f"{r['temperature_K']:g}K": r for r in t["runs"]}, "run", "transport"))
    ds = ds.merge(_rows(pg["ion_links"], "quantity", "link"))
    anions = list(pg["by_anion"])
    for f in ("mean", "mean_se_ions", "median", "fraction_soft", "n_ions", "n_samples"):
        ds[f"by_anion_{f}"] = (("anion_type", "where"), np.array(
            [[pg["by_anion"][a][w][f] for w in ("within", "nearest")] for a in anions], float))
    ds = ds.assign_coords(anion_type=anions, where=["within", "nearest"])
    nodes = {f"/glasses/{g}": ds}
    if "softness" in res and g in res["softness"]:
        ds["softness"] = _bare(res["softness"][g])
    ex = res.get("extras", {}).get(g)
    if ex:
        parts = {k: _bare(v) for k, v in ex.items()}
        first = next(iter(parts.values()))
        parts["softness"] = _bare(res["softness"][g]).sel(frame=first["frame"].values)
        e = xr.Dataset(parts).rename(frame="extras_frame")  # a subset of the glass's frames
        for k, u in (("potential_energy", "eV"), ("voronoi_volume", "angstrom^3"), ("softness", "1")):
            if k in e:
                e[k].attrs["units"] = u
        nodes[f"/glasses/{g}/extras"] = e
    return nodes


def _by_glass_rows(bar: dict, default_glass: str) -> xr.Dataset:
    """Per barrier glass (dim ``barrier_glass``): n, median, mean, se (eV) of its converged soft and hard bands,
    the Mann-Whitney p, the smallest p its n allow, and its unconverged bands and skipped targets."""
    from .glass_barriers import barrier_groups

    by = {g: c for g, c in barrier_groups(bar, default_glass).items() if g != "all glasses"}  # pooled: in attrs
    rows = {g: {"frame": c.get("frame", -1), "n_events": c.get("n_events", -1),
                **{f"{k}_{f}": c[k][f] for k in ("soft", "hard") for f in ("n", "median", "mean", "se")},
                **{k: c[k] for k in ("p_mannwhitney", "min_p", "n_unconverged", "n_skipped") if k in c}}
            for g, c in by.items()}
    ds = _rows(rows, "barrier_glass")
    for k in ("median", "mean", "se"):
        for kind in ("soft", "hard"):
            ds[f"{kind}_{k}"].attrs["units"] = "eV"
    return ds


def _plan_attrs(plan: dict | None) -> dict:
    """Root attrs of the temperatures each cross-glass comparison uses (:mod:`.temperature_plan`)."""
    if not plan:
        return {}
    soft = plan["comparisons"][0]
    return {"temperature_plan": json.dumps(plain(plan)), "common_temperatures_K": [float(t) for t in plan["common_K"]],
            "runs_left_out_of_softness": "; ".join(soft["runs_left_out"]) or "none"}


def study_tree(res: dict) -> xr.DataTree:
    """The result of :func:`~ssefeat.study.series_study.analyse_series` as a DataTree (module docstring)."""
    glasses = list(res["glasses"])
    anions = ["PS4", "P2S7", "P2S6"]
    record = plain({k: v for k, v in res.items() if k not in _ARRAYS}, keep_nan=True)
    root = xr.Dataset(
        {"counts": (("glass", "anion"), np.array([[res["counts"][g][a] for a in anions] for g in glasses], int)),
         "s_fraction": (("glass", "anion"), np.array([[res["s_fraction"][g][a] for a in anions] for g in glasses]))},
        coords={"glass": glasses, "anion": anions},
        attrs={"softness_temperature_K": float(res["softness_temperature_K"]),
               "barrier_glass": str(res.get("barrier_glass", "")), "settings": json.dumps(plain(res["settings"])),
               **_plan_attrs(res.get("temperature_plan")),
               "result_json": json.dumps(record)})
    root["s_fraction"].attrs["long_name"] = "fraction of the glass's S atoms in each anion type"
    nodes = {"/": root}
    for g in glasses:
        nodes.update(_glass_node(res, g))
    m = res["model"]
    pooled = xr.Dataset({"histogram_edges": ("edge", np.asarray(res["histogram_edges"], float))},
                        attrs={**{k: m[k] for k in ("r_cut", "nr_cut", "window", "C", "n_train")
                                  if k in m and _scalar(m[k])},
                               "held_out": json.dumps(plain(m.get("held_out", []))),
                               **{f"test_{k}": v for k, v in m.get("test", {}).items() if _scalar(v)},
                               **{f"E_a_trend_{k}": v for k, v in res["E_a_trend"].items() if _scalar(v)}})
    for name, rows in (("pooled_link", res.get("pooled_ion_links", {})), ("glass_link", res.get("glass_links", {}))):
        if rows:
            pooled = pooled.merge(_rows(rows, f"{name}_quantity", name))
    if res.get("comparison"):
        pooled = pooled.merge(_rows({r["statement"]: {k: v for k, v in r.items() if k != "statement"}
                                     for r in res["comparison"]}, "statement", "comparison"))
    nodes["/pooled"] = pooled
    if res.get("rdf") is not None:
        nodes["/pooled/rdf"] = res["rdf"]
    bar = res.get("barriers")
    if bar is not None:
        # the band's glass as band_glass: a variable named glass would clash with the root's glass coordinate
        rows = {f"{kind}_{i}": {**{k: v for k, v in r.items() if k != "glass"}, "kind": kind,
                                "band_glass": r.get("glass", res.get("barrier_glass", ""))}
                for kind in ("soft", "hard") for i, r in enumerate(bar[kind])}
        b = _rows(rows, "band") if rows else xr.Dataset()
        b.attrs = {"targets": bar.get("targets", ""), "n_skipped": len(bar.get("skipped", [])),
                   "glasses": json.dumps(list(bar.get("glasses") or [res.get("barrier_glass", "")])),
                   "test": "two-sided Mann-Whitney U, converged soft against converged hard bands; pooled: test_*, "
                           "per glass: the barrier_glass rows",
                   **{f"test_{k}": v for k, v in bar.get("comparison", {}).items() if _scalar(v)}}
        b = b.merge(_by_glass_rows(bar, res.get("barrier_glass", "")))
        nodes["/barriers"] = b
    return xr.DataTree.from_dict(nodes)


def result_from_tree(tree: xr.DataTree) -> dict:
    """The result dict of :func:`study_tree` 's input (numbers from the JSON record, arrays from the nodes)."""
    res = json.loads(tree.attrs["result_json"])
    res["softness"] = {g: tree["glasses"][g]["softness"] for g in res["glasses"]
                       if "softness" in tree["glasses"][g].to_dataset()}
    res["extras"] = {}
    for g in res["glasses"]:
        if "extras" in tree["glasses"][g].children:
            e = tree["glasses"][g]["extras"].to_dataset(inherit=False).rename(extras_frame="frame")
            res["extras"][g] = {k: e[k] for k in e.data_vars if k != "softness"}
    if "pooled" in tree.children and "rdf" in tree["pooled"].children:
        res["rdf"] = tree["pooled"]["rdf"].to_dataset()
    return res
