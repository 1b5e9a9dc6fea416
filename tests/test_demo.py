"""`ssefeat demo` end to end (slow: the default demo is 2 x 40 ps of MD on a 279-atom glass, 8.3 min measured on one
core): report.md is well formed, every D, sigma, E_a and extrapolated value carries units and an interval, the
"not diffusive" line names only its runs, the softness accuracy gives its interval's unit and n, and the timings
survive a resumed run. The same report checks run by default on the small pipelines of test_pipeline.py and
test_dynamics_transport.py."""
import re

import pytest
from click.testing import CliRunner

from conftest import check_report, check_transport_numbers


@pytest.mark.slow
def test_default_demo_report_is_one_a_referee_can_read(tmp_path):
    from ssefeat.cli import main

    out = tmp_path / "demo"
    first = CliRunner().invoke(main, ["demo", "-o", str(out)])
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(main, ["demo", "-o", str(out)])  # resumed: every stage is up to date
    assert again.exit_code == 0, again.output
    report = (out / "report.md").read_text()
    check_report(report)
    transport = check_transport_numbers(report)
    assert len(re.findall(r"^\| run_\d+ \| (800|1000) \|", report, flags=re.MULTILINE)) == 2
    if len(transport["apparent"]) == 0:
        assert transport["arrhenius"] >= 1  # two diffusive runs: E_a with its interval
    else:
        assert "fewer than two" in report or "apparent" in report
    line = next(x for x in report.splitlines() if "held-out accuracy" in x)
    assert re.search(r"95 % CI \[\d\.\d+, \d\.\d+\], percentile bootstrap over the \d+ held-out ions; n = \d+ ions, "
                     r"\d+ samples, \d+ frames in \d+ held-out frame blocks", line) or "no interval:" in line, line
    timings = report.split("## Timings", 1)[1]
    earlier = re.search(r"Up to date, computed by an earlier run: (.+)\.", timings)
    assert earlier, timings
    stages = dict(re.findall(r"([\w ]+?) (\d+\.\d) s", earlier[1]))
    assert {"trajectory", "features 0", "labels 0", "softness 0", "correlate", "transport"} <= \
        {k.strip(", ") for k in stages}, stages


GOOD = """## Transport

| run | T (K) | D (cm²/s) | σ (S/cm) | Haven ratio | fit window |
|---|---|---|---|---|---|
| run_0 | 800 | 1.2e-05 ± 3e-06 | 0.11 ± 0.03 | 1 | diffusive |
| run_1 | 1000 | 3.4e-05 ± 5e-06 | 0.25 ± 0.04 | 1 | **apparent: not diffusive** |

**The MSD of run_1 never reached the diffusive regime: the D and σ of that run are apparent values.**
- Arrhenius D over run_0, run_1: E_a = 0.21 ± 0.05 eV; at 300 K: 3.16e-11 cm^2/s (68 % interval 1.1e-11 to 9e-11 \
cm^2/s, the fit being in log space)
"""


@pytest.mark.parametrize("bad", [
    ("3.16e-11 cm^2/s (68 % interval 1.1e-11 to 9e-11 cm^2/s", "3.16e-11 ± 5.8e-11 (68 % interval 1.1e-11 to 9e-11"),
    ("| 1.2e-05 ± 3e-06 |", "| 1.2e-05 |"),
    ("The MSD of run_1 never", "The MSD of run_0, run_1 never"),
    ("E_a = 0.21 ± 0.05 eV", "E_a = 0.21 eV"),
])
def test_report_checker_refuses_what_the_issue_found(bad):
    """The checker the demo test relies on passes a good section and fails on each fault issue 14 reported: an
    extrapolation without units, a D without an interval, a "not diffusive" line naming every run, E_a bare."""
    assert check_transport_numbers(GOOD) == {"apparent": ["run_1"], "arrhenius": 1}
    with pytest.raises(AssertionError):
        check_transport_numbers(GOOD.replace(*bad))
