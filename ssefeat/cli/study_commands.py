"""CLI: ``ssefeat study CONFIG`` (the glass-series study of a ``[study]`` configuration)."""
from __future__ import annotations

import click

from .group import main


@main.command("study")
@click.argument("config_file", type=click.Path())
@click.option("-o", "--output", type=click.Path(), default=None, help="study folder (overrides the config)")
@click.option("--overwrite", is_flag=True, help="replace an existing study report in the folder")
def study_cmd(config_file, output, overwrite):
    """Run the LiPS glass-series study of CONFIG_FILE's [study] section (see ssefeat.study.study_config):
    the built-in composition series or your own trajectories grouped by glass; writes study_report.md (with the
    comparison against the thesis), study.json, softness per glass and figures."""
    from ..study.study_config import read_study_config, run_study_config

    study = read_study_config(config_file)
    if output:
        study["folder"] = output
    res = run_study_config(study, overwrite=overwrite, say=lambda msg: click.echo(msg, err=True))
    for row in res["comparison"]:
        click.echo(f"[{row['verdict']}] {row['statement']}: {row['measured']}")
    click.echo(f"report: {study['folder']}/study_report.md")
