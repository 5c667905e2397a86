"""`python -m monitor.cli`: the `grumble` command without its installed script."""

from monitor.cli.parser import main

raise SystemExit(main())
