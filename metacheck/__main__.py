import sys

from metacheck.cli import main

sys.exit(main())
