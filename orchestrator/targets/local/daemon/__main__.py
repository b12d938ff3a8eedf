"""`python -m orchestrator.targets.local.daemon HOME`: how client.py starts the local cloud."""

import sys

from .main import main

if __name__ == "__main__":
    sys.exit(main(sys.argv))
