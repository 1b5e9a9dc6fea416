"""Stage 9 (optional): the thesis' glass study (:mod:`ssefeat.study`) of a ``[study]`` section or of
``trajectory.groups``: per glass transport and E_a, one pooled Li-Li softness model, links per ion and per glass,
RDFs and NEB barriers of soft and hard Li, the comparison with the thesis. Its result is a DataTree
(:mod:`ssefeat.study.study_tree`), stored as ``stages/study.nc`` with the hash of the ``study`` and ``species``
sections and ``trajectory.groups`` (not the per-run stages' trajectory settings); the built-in series' MD runs go to
``<output>/study_md/`` (reused when their inputs match, so an interrupted series resumes run by run). The report
step writes the study's own files next to ``report.md`` (``study_report.md``, ``study.json``, ``study.nc``,
``softness_<glass>.nc``) and its figures into ``figures/``."""
from __future__ import annotations

from .stage import Stage


class StudyStage(Stage, label="study", sections=("study", "species"), storage="tree"):

    def key(self) -> str:  # the study's own files (trajectory.groups), not the per-run stages' trajectory settings
        from ..config import section_hash

        return section_hash(self.config, *self.sections, extra={"groups": self.config["trajectory"]["groups"]})

    def compute(self):
        from ..study.study_config import study_result
        from ..study.study_tree import study_tree

        res = study_result(self.config, self.pipe.out / "study_md", say=lambda msg: self.pipe.say(f"study: {msg}"))
        return study_tree(res)


def write_study_outputs(folder, tree, figures: bool) -> tuple[list[str], list[str]]:
    """The study's files next to the run's report and its figures in ``folder/figures``: returns the report
    section's lines (the study report with its headings one level down) and the figure names."""
    from pathlib import Path

    from ..study.study_report import report_markdown, write_study
    from ..study.study_tree import result_from_tree

    folder = Path(folder)
    res = result_from_tree(tree)
    paths = write_study(res, folder, figures=figures, figure_folder=folder / "figures")
    names = [p.name for p in paths if p.suffix == ".png"]
    text = report_markdown(res).splitlines()
    lines = ["## " + text[0].lstrip("# ").strip(), "",
             "The study's files: `study_report.md` (this section), `study.json` (every number), `study.nc` (a "
             "DataTree: one node per glass, /pooled for the model and links), `softness_<glass>.nc`."]
    lines += [("#" + ln) if ln.startswith("## ") else ln for ln in text[1:]]
    return lines + [""], names
