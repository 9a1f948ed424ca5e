"""The configuration stays as conf.py sets it, so a build with nothing changed reports no change.

Sphinx compares the configuration of a build with the one pickled by the previous build
and says "The configuration has changed (N options: ...)" when they differ. Extensions
that add to a list while the builder starts (sphinx-copybutton and sphinx-design to
``html_static_path``, the theme to ``templates_path``) made every build differ from the
last. conf.py therefore names those folders itself, in their final form, and this
extension, run after every other ``builder-inited`` handler, drops the second copy each
extension appends: the lists end as conf.py wrote them. A folder appended that conf.py
does not name fails the build, naming it (add it to conf.py).

Not settled here: ``sphinx_gallery_conf``, which sphinx-gallery uses to keep its run's
state (the examples' titles, the stale examples, the source folder and the builder's
name, all set while building): Sphinx reports it as changed on every build. The report is
information only; Sphinx re-reads no page for a value of the "html" kind.
"""

from __future__ import annotations

from sphinx.util import logging

logger = logging.getLogger(__name__)

# The lists that extensions append to while the builder starts.
SETTLED = ("html_static_path", "templates_path")


def without_duplicates(values: list) -> list:
    """``values`` in order, each once (the first occurrence kept)."""
    seen: list = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


def _remember(app, config):
    app.autograd_site_configured = {name: list(config[name]) for name in SETTLED}


def _settle(app):
    configured = app.autograd_site_configured
    for name in SETTLED:
        values = without_duplicates(app.config[name])
        if added := [value for value in values if value not in configured[name]]:
            logger.warning(
                f"an extension added {added} to {name} while the build started; name "
                f"{'them' if len(added) > 1 else 'it'} in conf.py's {name} so that every build "
                "sees the same configuration (see autograd_site/sphinxext/settled_config.py)",
                type="autograd_site", subtype="settled_config",
            )
        app.config[name][:] = values


def setup(app):
    # last among the config-inited handlers (sphinx-gallery adds its folders there, before
    # Sphinx compares configurations), last among the builder-inited ones
    app.connect("config-inited", _remember, priority=999)
    app.connect("builder-inited", _settle, priority=999)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
