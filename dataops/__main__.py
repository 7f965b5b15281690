import sys

from dataops.cli import main

sys.exit(main())
