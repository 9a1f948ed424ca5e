"""Tracebacks a learner can read: run at the start of each build kernel (an IPython startup file).

An error shown on purpose on a MyST-NB page should show the reader's own code
and the exception, as in a short script. IPython's full traceback also lists
the frames of torch, ipykernel, tornado and asyncio with the build machine's
paths, and names each cell after a temporary file that carries the kernel's
process id, so two builds would differ. Here, through IPython's public
:meth:`~IPython.core.interactiveshell.InteractiveShell.set_custom_exc` and the
replaceable :func:`warnings.showwarning`:

- a traceback keeps the frames of the page's cells, labelled ``Cell In[n]``
  as IPython labels them (a new traceback of those frames, shown by IPython);
- a warning's location and any traceback quoted in its text (anomaly mode
  quotes the forward call's stack) get the same treatment: cells by label,
  installed packages by their path inside ``site-packages``, no other frames.

``execution.py`` installs this file as the startup file of an IPython profile
used only by the build's kernels. A reader's own Jupyter shows full tracebacks.
"""

import linecache
import re
import types
import warnings

from IPython import get_ipython

_shell = get_ipython()
_SITE_PACKAGES = re.compile(r".*[/\\](?:site|dist)-packages[/\\]")
_FRAME = re.compile(r'^  File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<func>.*)$')


def _cell_label(filename):
    """``Cell In[n]`` for a cell's code, or None for a file."""
    label = _shell.compile.format_code_name(filename)
    return f"{label[0]} {label[1]}" if label else None


def _short_path(filename):
    """A cell's label, or a library file's path inside site-packages."""
    return _cell_label(filename) or _SITE_PACKAGES.sub("", filename)


def _reader_traceback(shell, etype, value, tb, tb_offset=None):
    """Show the traceback through the cells' frames only, with IPython's own formatting."""
    frames = []
    while tb is not None:
        if _cell_label(tb.tb_frame.f_code.co_filename):
            frames.append(tb)
        tb = tb.tb_next
    own = None
    for frame in reversed(frames):
        own = types.TracebackType(own, frame.tb_frame, frame.tb_lasti, frame.tb_lineno)
    shell.showtraceback((etype, value, own))


def _reader_stack(text):
    """Keep a quoted stack's frames from cells (labelled) and drop every other frame."""
    out, skip_code = [], False
    for line in text.splitlines():
        match = _FRAME.match(line)
        if match:
            label = _cell_label(match["file"])
            skip_code = label is None
            if label:
                out.append(f"  {label}, line {match['line']}, in {match['func']}")
            continue
        if skip_code and line.startswith("    "):
            continue
        skip_code = False
        out.append(line)
    return "\n".join(out)


_show_warning = warnings.showwarning


def _reader_showwarning(message, category, filename, lineno, file=None, line=None):
    text = _reader_stack(str(message))
    # the line of code for a cell; none for a library file (it is not the reader's code)
    code = linecache.getline(filename, lineno).strip() if _cell_label(filename) else ""
    _show_warning(text, category, _short_path(filename), lineno, file, code)


_shell.set_custom_exc((Exception,), _reader_traceback)
warnings.showwarning = _reader_showwarning
