"""``python -m pms`` is the ``pms`` command."""

from pms.cli import main

main()
