"""`python -m minigpt2.core.cli`: the `minigpt2` command, where the script is not on PATH."""

import sys

from minigpt2.core.cli.main import main

sys.exit(main())
