"""CLI: ``ssefeat study CONFIG`` (the glass-series study of a ``[study]`` configuration, run as the pipeline's
study stage: ``ssefeat run`` on a configuration with only that section)."""
from __future__ import annotations

from pathlib import Path

import click

from .group import main


@main.command("study")
@click.argument("config_file", type=click.Path())
@click.option("-o", "--output", type=click.Path(), default=None, help="study folder (overrides study.folder)")
def study_cmd(config_file, output):
    """Run the LiPS glass-series study of CONFIG_FILE's [study] section (see ssefeat.study.study_config): the
    built-in composition series or your own trajectories grouped by glass (paths relative to CONFIG_FILE). The
    same as `ssefeat run` on a configuration holding only this [study] (its folder as output.folder): resumable,
    writes report.md, study_report.md (with the comparison against the thesis), study.json, study.nc, softness per
    glass and figures/."""
    import json

    from ..config import load_config
    from ..pipeline import Pipeline
    from ..study.study_config import read_study_config, resolve_study_paths

    study = read_study_config(config_file)
    folder = study.pop("folder")
    resolve_study_paths({"study": study, "trajectory": {}}, Path(config_file).parent)
    out = Pipeline(load_config({"study": study, "output": {"folder": output or folder}})).run()
    record = json.loads((out / "study.json").read_text())
    plan = record.get("temperature_plan")
    if plan:  # which runs the cross-glass comparisons leave out (the report's "Temperatures" section)
        left = plan["comparisons"][0]["runs_left_out"]
        partial = "; ".join(f"{t} K ({', '.join(g)})" for t, g in plan["partial_K"].items())
        click.echo(f"softness and every comparison across glasses at {plan['softness_K']:g} K; {len(left)} other "
                   "run(s) left out of them" + (f"; temperatures only some glasses have: {partial}" if partial
                                                else ""))
    for row in record["comparison"]:
        click.echo(f"[{row['verdict']}] {row['statement']}: {row['measured']}")
    click.echo(f"report: {out}/study_report.md")
