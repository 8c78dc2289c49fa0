"""``python -m airforce_openai``: the same command as ``airforce-openai``.

$ python -m airforce_openai generate "a sea otter" --offline --out renders/
renders/image-0.png
"""

from __future__ import annotations

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
