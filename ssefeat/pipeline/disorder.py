"""Stage 7 (optional): F(z) disorder profile from the profile's frames, regions and per-region dynamics of the
mobile atoms."""
from __future__ import annotations

import numpy as np

from ..io.stage_files import frame_coords, read_frames
from .stage import Stage
from .transport import mobile_trajectory


class DisorderStage(Stage, label="disorder", inputs=("traj",), sections=("trajectory", "species", "disorder")):

    def compute(self):
        from ..disorder import disorder_profile
        from ..dynamics.region_dynamics import region_dynamics
        from ..regions import find_regions, label_atoms

        dc, traj = self.config["disorder"], self.traj
        n = frame_coords(traj).sizes["frame"]
        frames = np.unique(np.linspace(0, n - 1, min(int(dc["frames"]), n)).astype(int))
        species = dc["species"]  # the atoms whose density makes F(z)
        if species == "framework":
            species = list(self.config["species"]["framework"])
        elif species == "all":
            species = None
        # F(z) needs every atom but only the profile's frames; the region dynamics only the mobile atoms
        prof = disorder_profile(read_frames(traj, frames), axis=dc["axis"], slab_width=dc["slab_width"],
                                grid_spacing=dc["grid_spacing"], sigma=dc["sigma"], species=species)
        regions = find_regions(prof)
        out = prof.copy()
        for v in regions.data_vars:
            out[f"regions_{v}"] = regions[v]
        out.attrs.update({f"regions_{k}": v for k, v in regions.attrs.items()
                          if k in ("method", "fit_ok", "fit_message", "F_crystal", "F_glass")})
        ds = mobile_trajectory(self.pipe, traj)
        dyn = region_dynamics(ds, label_atoms(ds, regions), species=self.config["species"]["mobile"])
        dyn = dyn.rename({"region": "region_class"})
        for v in dyn.data_vars:
            out[f"dyn_{v}"] = dyn[v]
        return out
