"""The README's main job and the examples run as a new user would run them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class TestQuickstart:
    """examples/quickstart.py: the README's first command."""

    def test_runs_on_the_emulator(self) -> None:
        """The quickstart finishes its batch on the embedded emulator and exits 0."""
        done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
            [sys.executable, str(ROOT / "examples" / "quickstart.py")],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "7 tasks, 0 failed" in done.stdout
        assert done.stdout.count("SUCCEEDED") == 7
