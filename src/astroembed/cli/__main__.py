"""``python -m astroembed.cli``."""

import sys

from . import main

sys.exit(main())
