"""Command-line checks of the site (``python -m autograd_site.cli.NAME``), run by the Makefile."""
