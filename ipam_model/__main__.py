"""``python -m ipam_model`` is the same as ``calico-ipam``."""
import sys

from .cli import main

sys.exit(main())
