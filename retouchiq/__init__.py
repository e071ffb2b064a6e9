"""The ``retouchiq`` command line: stands above every room (xmp, darktable_bridge, agent, server) and gives each of
their jobs a subcommand. Nothing imports this package."""
