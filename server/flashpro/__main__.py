"""`python -m flashpro` is the `flashpro` command."""

from __future__ import annotations

import sys

from flashpro.cli import main

sys.exit(main())
