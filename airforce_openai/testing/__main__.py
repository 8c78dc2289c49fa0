"""Serve the gateway emulator in the foreground until Ctrl-C.

$ python -m airforce_openai.testing --port 8080
export AIRFORCE_BASE_URL=http://127.0.0.1:8080/v1
"""

from __future__ import annotations

from ._command import main

if __name__ == "__main__":
    raise SystemExit(main())
