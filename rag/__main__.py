"""`python -m rag ...` runs the command line (`rag ...`)."""

import sys

from rag.ways_in.cli import main

if __name__ == "__main__":
    sys.exit(main())
