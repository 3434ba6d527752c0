"""Default settings for the course's JupyterLab, written into the virtual environment.

JupyterLab reads ``overrides.json`` from ``<environment>/share/jupyter/lab/settings/``
as the defaults of its settings (a learner's own settings still win). The course turns
off the "Would you like to get notified about official Jupyter news?" pop-up that
otherwise covers the first notebook a learner opens, and the check for JupyterLab
updates: the pinned version is the one the course is tested with. `make` runs this
after installing the requirements.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def main() -> None:
    folder = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "overrides.json"
    current = json.loads(path.read_text()) if path.exists() else {}
    current.update(OVERRIDES)
    path.write_text(json.dumps(current, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
