"""python -m analysis.figures: see the package's docstring."""

import sys

from analysis.figures import main

sys.exit(main())
