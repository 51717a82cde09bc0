"""cardcheck: integrity checks of one-card (一卡通) social-assistance payments."""

import os
import sys

__version__ = "0.1.0"

# polars allocates through jemalloc, which by default keeps freed pages for ~10 s: after the
# readers free a file's working columns, RSS stays near the peak while the rules allocate more
# (300k households: 3.8 GB resident after reading 1.3 GB of tables). Returning pages after half
# a second keeps the resident set near what is in use. Only if polars is not loaded yet, and
# never over a setting the user made.
if "polars" not in sys.modules:
    os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
