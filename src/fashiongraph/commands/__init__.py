"""One module per CLI subcommand, each with ``HELP``, ``configure(parser)`` and ``run(args)``."""
