"""`python -m xdscli`: the same as the `xds` command."""

from xdscli.main import main

raise SystemExit(main())
