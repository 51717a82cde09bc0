"""cardcheck: integrity checks of one-card (一卡通) social-assistance payments."""

import os
import sys

__version__ = "0.1.0"

# polars allocates through jemalloc, which keeps freed pages for a while (polars asks for 0.5 s
# dirty, 1 s muzzy, but purges only happen on later allocator calls): after the readers free a
# file's working columns the resident set stays near the peak while the rules allocate more
# (300k households: 3.8 GB resident after reading 1.3 GB of tables; 2.6 GB with pages returned at
# once, same read time). Only if polars is not loaded yet, and never over a user's setting
# (polars appends it after its own defaults, so it wins).
if "polars" not in sys.modules:
    os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
