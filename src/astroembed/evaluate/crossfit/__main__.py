"""``python -m astroembed.evaluate.crossfit`` = ``astroembed crossfit``."""

import sys

from . import main

sys.exit(main())
