"""Stage 5: Pearson links (bootstrap CI) from softness to environments and descriptors, LASSO
(:func:`ssefeat.correlate_chunked.study_links`, read ``execution.chunk_frames`` frames at a time)."""
from __future__ import annotations

from .stage import Stage


class CorrelateStage(Stage, label="correlate", inputs=("features", "softness"),
                     sections=("trajectory", "species", "features", "labels", "softness", "correlate")):

    def compute(self):
        from ..correlate_chunked import study_links

        cc = self.config["correlate"]
        return study_links(self.features, self.softness, n_boot=int(cc["n_boot"]), lasso=cc["lasso"],
                           chunk_frames=self.chunk_frames)
