"""python -m metrics.figures: see the package's docstring."""

import sys

from metrics.figures import main

sys.exit(main())
