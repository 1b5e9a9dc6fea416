"""CLI: ``ssefeat run CONFIG`` and ``ssefeat demo``."""
from __future__ import annotations

import click

from .group import main


def _execution(config: dict, workers: int | None, scheduler: str | None) -> None:
    if workers is not None:
        config.setdefault("execution", {})["workers"] = workers
    if scheduler is not None:
        config.setdefault("execution", {})["scheduler"] = scheduler


@main.command("run")
@click.argument("config_file", type=click.Path())
@click.option("--workers", type=int, default=None, help="run frame chunks on a local dask cluster of N workers")
@click.option("--scheduler", default=None, help="address of an existing dask scheduler (tcp://HOST:PORT)")
@click.option("-o", "--output", type=click.Path(), default=None, help="results folder (overrides the config)")
def run_cmd(config_file, workers, scheduler, output):
    """Run the end-to-end analysis described by CONFIG_FILE (TOML or JSON); resumable."""
    from ..config import load_config
    from ..pipeline import Pipeline

    config = load_config(config_file)
    _execution(config, workers, scheduler)
    if output:
        config["output"]["folder"] = output
    Pipeline(config).run()


def demo_config(output: str = "ssefeat-demo", quick: bool = False) -> dict:
    """The demo: a small Li thiophosphate glass (279 atoms) at two temperatures, every analysis, a results folder.

    800 K and 1000 K with 40 ps of production each: in this model Li needs tens of ps to leave the sub-diffusive
    regime, so hotter and longer beats larger within the demo's time budget (a few minutes on two cores).
    """
    from ..config import load_config

    return load_config({
        "trajectory": {"generate": "lips_glass", "temperatures": [800.0, 1000.0], "seed": 0, "n_atoms": "small",
                       "steps": 8000 if quick else 40000, "dump_every": 40 if quick else 100},
        "labels": {"t_R_frames": 10},
        "softness": {"window": 2, "horizon": 10},
        "correlate": {"n_boot": 200},
        "disorder": {"enabled": True, "axis": "z", "frames": 5},
        "output": {"folder": output},
    })


@main.command("demo")
@click.option("-o", "--output", type=click.Path(), default="ssefeat-demo", show_default=True,
              help="results folder")
@click.option("--quick", is_flag=True, help="a shorter run (for a first look or for tests)")
@click.option("--workers", type=int, default=None, help="run frame chunks on a local dask cluster of N workers")
def demo_cmd(output, quick, workers):
    """Generate a Li thiophosphate glass with the MD engine and run every analysis on it."""
    from ..pipeline import Pipeline

    config = demo_config(output, quick)
    _execution(config, workers, None)
    Pipeline(config).run()
