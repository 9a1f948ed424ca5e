"""The Autograd by Example site's own tooling.

- :mod:`autograd_site.project`: facts about the repository shared by every tool
  (folders, generated folders, the executable pages, scratch copies).
- :mod:`autograd_site.pages`: what a built page shows (printed text, figures).
- :mod:`autograd_site.sphinxext`: the Sphinx extensions ``conf.py`` loads.
- :mod:`autograd_site.cli`: command-line checks the Makefile runs.
"""
