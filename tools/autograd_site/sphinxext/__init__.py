"""Sphinx extensions of the site, each using only Sphinx's and its extensions' public hooks."""
