import sys

from retouchiq.cli import main

sys.exit(main())
