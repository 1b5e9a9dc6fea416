"""Stage 6: MSD, D, conductivity per run and Arrhenius fits over the temperatures, with the verdict on the fit
window of each run (:func:`ssefeat.dynamics.regime.conductivity_with_verdict`); a DataTree. Only the mobile atoms and
the whole system's centre of mass are held, streamed from every atom in one pass over frame chunks."""
from __future__ import annotations

from .stage import Stage


def mobile_trajectory(pipe, traj):
    """The mobile species' atoms of a stage trajectory with the whole system's centre of mass, read in one pass
    over frame chunks (see :func:`ssefeat.dynamics.msd.select_with_system_com`)."""
    from ..dynamics.msd import select_with_system_com
    from ..io import iter_chunks

    return select_with_system_com(iter_chunks(traj, int(pipe.config["execution"]["chunk_frames"])),
                                  pipe.config["species"]["mobile"])


class TransportStage(Stage, label="transport", inputs=("trajs",), sections=("trajectory", "species", "transport"),
                     storage="tree"):

    def compute(self):
        from ..dynamics.arrhenius import transport_study

        tc = self.config["transport"]
        runs = [mobile_trajectory(self.pipe, p) for p in self.trajs]
        tree = transport_study(runs, self.config["species"]["mobile"],
                               self.config["trajectory"]["temperatures"] or None,
                               tuple(tc["window"]) if tc["window"] else None, fallback=True, haven=tc["haven"],
                               ngp=True)
        for lab in tree["/"].to_dataset()["run"].values:
            if tree[lab].attrs["verdict"] == "apparent":
                self.pipe.say(f"transport {lab}: {tree[lab].attrs['window_note']}")
        tree.attrs["window_note"] = tree["/"].attrs["window_note"]
        return tree
