"""A build with nothing changed reports no configuration change (sphinxext.settled_config).

sphinx-copybutton adds its folder to ``html_static_path`` while the builder starts; with
the folder named in conf.py and the extension dropping the second copy, a second build of
an unchanged project finds the configuration it pickled.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from autograd_site.project import ROOT
from autograd_site.sphinxext.settled_config import without_duplicates

CONF = """
from importlib.resources import files
extensions = ["sphinx_copybutton"{settled}]
html_static_path = [str(files("sphinx_copybutton") / "_static")]
"""


def _build(src, out):
    return subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-W", str(src), str(out)],
                          capture_output=True, text=True, cwd=ROOT)


def _second_build(tmp_path, conf: str):
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(conf)
    (src / "index.rst").write_text("Page\n====\n\nText.\n")
    first = _build(src, tmp_path / "out")
    assert first.returncode == 0, first.stderr
    return _build(src, tmp_path / "out")


@pytest.mark.parametrize("settled", [True, False])
def test_a_second_build_reports_a_change_only_without_the_extension(tmp_path, settled):
    name = ', "autograd_site.sphinxext.settled_config"' if settled else ""
    second = _second_build(tmp_path, CONF.format(settled=name))
    assert second.returncode == 0, second.stderr
    assert ("The configuration has changed" in second.stdout) is not settled, second.stdout


def test_a_folder_added_while_building_that_conf_py_does_not_name_fails_the_build(tmp_path):
    conf = ('extensions = ["sphinx_copybutton", "autograd_site.sphinxext.settled_config"]\n')
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(conf)
    (src / "index.rst").write_text("Page\n====\n\nText.\n")
    result = _build(src, tmp_path / "out")
    assert result.returncode != 0
    assert "sphinx_copybutton" in result.stderr and "html_static_path" in result.stderr
    assert "name it in conf.py's html_static_path" in result.stderr


def test_without_duplicates_keeps_the_first_of_each():
    assert without_duplicates(["a", "b", "a", "c", "b"]) == ["a", "b", "c"]
