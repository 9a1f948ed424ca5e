"""Write the intersphinx inventories in ``docs/_inventories/`` from the INSTALLED packages.

The site links names in code (``torch.autograd.grad``, ``numpy.linspace``,
``plt.plot``, ``len``...) to the PyTorch, NumPy, Matplotlib and Python docs
through intersphinx, but the build must never go online. So the inventories are
committed, and this script regenerates them reproducibly (``make inventories``)
by introspecting the installed torch / numpy / matplotlib / Python and writing
each public name with the URL scheme that the real documentation uses:

- PyTorch  https://docs.pytorch.org/docs/stable/  ``generated/<fullname>.html#<fullname>``
  for functions, classes and methods; a few objects documented on their module
  page instead (``testing.html#torch.testing.assert_close``,
  ``autograd.html#torch.autograd.graph.saved_tensors_hooks``...); module pages
  ``autograd.html#module-torch.autograd``.
- NumPy    https://numpy.org/doc/stable/  ``reference/generated/numpy.<name>.html#numpy.<name>``
- Matplotlib https://matplotlib.org/stable/  ``api/_as_gen/matplotlib.pyplot.<name>.html#...``,
  ``api/_as_gen/matplotlib.axes.Axes.<name>.html#...``,
  ``api/_as_gen/matplotlib.figure.Figure.<name>.html#...``
- Python   https://docs.python.org/3/  builtins on ``library/functions.html#<name>``,
  exceptions on ``library/exceptions.html#<name>``, modules
  ``library/<module>.html#module-<module>`` and their members
  ``library/<module>.html#<module>.<name>``.

The output is deterministic for a given set of installed versions (sorted
entries, fixed zlib level), so ``git diff`` after ``make inventories`` shows only
real changes. ``--online`` instead downloads the real ``objects.inv`` files (for
a maintainer with network; never used by the build or CI).

Usage::

    python docs/_ext/make_inventories.py [--out docs/_inventories] [--online]
"""

from __future__ import annotations

import argparse
import builtins
import importlib
import inspect
import sys
import types
import urllib.request
import zlib
from importlib.metadata import version
from pathlib import Path

import sphobjinv as soi

from autograd_site.project import ROOT

OUT = ROOT / "docs" / "_inventories"

URLS = {
    "torch": "https://docs.pytorch.org/docs/stable/",
    "numpy": "https://numpy.org/doc/stable/",
    "matplotlib": "https://matplotlib.org/stable/",
    "python": "https://docs.python.org/3/",
}


class Inventory:
    """Collects (name, role, uri) and writes a deterministic objects.inv."""

    def __init__(self, project: str, version_: str):
        self.project = project
        self.version = version_
        self.entries: dict[tuple[str, str], str] = {}

    def add(self, name: str, role: str, uri: str) -> None:
        # the first registration wins: specific rules are added before generic ones
        self.entries.setdefault((name, role), uri)

    def write(self, path: Path) -> int:
        inv = soi.Inventory()
        inv.project = self.project
        inv.version = self.version
        for (name, role), uri in sorted(self.entries.items()):
            if uri.endswith("#" + name):  # the standard '$' abbreviation
                uri = uri[: -len(name)] + "$"
            inv.objects.append(
                soi.DataObjStr(
                    name=name, domain="py", role=role, priority="1", uri=uri, dispname="-"
                )
            )
        text = inv.data_file(contract=True)
        # sphobjinv.compress_zlib uses the default level; fix it for byte-stable output
        marker = b"# The remainder of this file is compressed using zlib.\n"
        header, _, body = text.partition(marker)
        data = header + marker
        data += zlib.compress(body, 9)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return len(inv.objects)


def _public(names):
    return sorted({n for n in names if not n.startswith("_")})


def _members(module):
    names = getattr(module, "__all__", None)
    if names is None:  # no __all__: what the module defines or re-exports from its package
        package = module.__name__.split(".")[0]
        names = [
            n
            for n, obj in vars(module).items()
            if not isinstance(obj, types.ModuleType)
            and str(getattr(obj, "__module__", module.__name__)).startswith(package)
        ]
    out = []
    for n in _public(names):
        try:
            obj = getattr(module, n)
        except Exception:  # noqa: BLE001 - lazily failing attributes are simply skipped
            continue
        out.append((n, obj))
    return out


def _role(obj) -> str | None:
    if isinstance(obj, types.ModuleType):
        return None
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    if callable(obj):
        return "function"
    return "data"


def _class_members(cls):
    out = []
    for n in _public(dir(cls)):
        try:
            raw = inspect.getattr_static(cls, n)
        except AttributeError:
            continue
        if isinstance(raw, property | types.GetSetDescriptorType | types.MemberDescriptorType):
            out.append((n, "attribute"))
        elif isinstance(raw, classmethod):
            out.append((n, "method"))
        elif isinstance(raw, staticmethod):
            out.append((n, "method"))
        elif callable(raw) or inspect.isroutine(raw):
            out.append((n, "method"))
        elif not inspect.isclass(raw):
            out.append((n, "attribute"))
    return out


# -- PyTorch -------------------------------------------------------------------


def torch_inventory() -> Inventory:
    import torch
    import torch.autograd.forward_ad
    import torch.autograd.functional
    import torch.autograd.graph
    import torch.func
    import torch.linalg
    import torch.nn
    import torch.nn.functional
    import torch.nn.utils
    import torch.optim
    import torch.testing

    inv = Inventory("PyTorch", torch.__version__.split("+")[0])
    gen = "generated/{0}.html#{0}"

    modules = {
        "torch": "torch.html",
        "torch.autograd": "autograd.html",
        "torch.autograd.functional": "autograd.html",
        "torch.autograd.forward_ad": "autograd.html",
        "torch.autograd.graph": "autograd.html",
        "torch.func": "func.html",
        "torch.nn": "nn.html",
        "torch.nn.functional": "nn.functional.html",
        "torch.optim": "optim.html",
        "torch.testing": "testing.html",
        "torch.linalg": "linalg.html",
    }
    for mod, page in modules.items():
        inv.add(mod, "module", f"{page}#module-{mod}")

    # objects documented on a module page rather than on a generated page of their own
    inv.add("torch.Tensor", "class", "tensors.html#torch.Tensor")
    inv.add("torch.dtype", "class", "tensor_attributes.html#torch.dtype")
    inv.add("torch.device", "class", "tensor_attributes.html#torch.device")
    inv.add("torch.finfo", "class", "type_info.html#torch.finfo")
    inv.add("torch.iinfo", "class", "type_info.html#torch.iinfo")
    inv.add("torch.testing.assert_close", "function", "testing.html#torch.testing.assert_close")
    inv.add("torch.testing.make_tensor", "function", "testing.html#torch.testing.make_tensor")
    inv.add(
        "torch.testing.assert_allclose", "function", "testing.html#torch.testing.assert_allclose"
    )
    inv.add("torch.autograd.Function", "class", "autograd.html#torch.autograd.Function")
    for dtype in (
        "float16",
        "bfloat16",
        "float32",
        "float64",
        "float",
        "double",
        "half",
        "int32",
        "int64",
        "long",
        "int",
        "bool",
        "complex64",
        "complex128",
    ):
        inv.add(f"torch.{dtype}", "data", "tensor_attributes.html#torch.dtype")
    inv.add("torch.pi", "data", "torch.html#torch.pi")
    # grad-mode switches live in torch.autograd.grad_mode but are documented as torch.<name>
    for n in ("no_grad", "enable_grad", "set_grad_enabled", "inference_mode"):
        inv.add(f"torch.{n}", "class", gen.format(f"torch.{n}"))

    def module_members(modname, class_page=None, member_page=None):
        mod = importlib.import_module(modname)
        for n, obj in _members(mod):
            role = _role(obj)
            if role is None:
                continue
            full = f"{modname}.{n}"
            if member_page is not None:
                inv.add(full, role, f"{member_page}#{full}")
            else:
                inv.add(full, role, gen.format(full))
            if role in ("class", "exception"):
                page = class_page or f"generated/{full}.html"
                for m, mrole in _class_members(obj):
                    # inherited members are documented on the base class's page
                    if m not in vars(obj) or m in ("training", "dump_patches", "call_super_init"):
                        continue
                    inv.add(f"{full}.{m}", mrole, f"{page}#{full}.{m}")

    # torch top level: functions and classes each have generated/<name>.html
    for n, obj in _members(torch):
        role = _role(obj)
        if role is None or n in ("Tensor",):
            continue
        if role == "data" and not callable(obj):
            continue  # dtypes, constants, handled above
        inv.add(f"torch.{n}", role, gen.format(f"torch.{n}"))
    # torch.Tensor methods and attributes: generated/torch.Tensor.<name>.html
    for m, mrole in _class_members(torch.Tensor):
        inv.add(f"torch.Tensor.{m}", mrole, gen.format(f"torch.Tensor.{m}"))
    # torch.autograd: functions generated; autograd.Function methods generated too
    module_members("torch.autograd")
    for m in (
        "forward",
        "backward",
        "setup_context",
        "jvp",
        "vmap",
        "apply",
        "mark_dirty",
        "mark_non_differentiable",
        "save_for_backward",
        "set_materialize_grads",
    ):
        name = f"torch.autograd.Function.{m}"
        inv.entries.pop((name, "method"), None)
        inv.add(name, "method", gen.format(name))
    for m in (
        "save_for_backward",
        "mark_dirty",
        "mark_non_differentiable",
        "set_materialize_grads",
    ):
        name = f"torch.autograd.function.FunctionCtx.{m}"
        inv.add(name, "method", gen.format(name))
    module_members("torch.autograd.functional")
    module_members("torch.autograd.forward_ad")
    module_members("torch.autograd.graph", class_page="autograd.html", member_page="autograd.html")
    for m in ("name", "next_functions", "metadata", "register_hook", "register_prehook"):
        name = f"torch.autograd.graph.Node.{m}"
        inv.entries.pop((name, "method"), None)
        inv.entries.pop((name, "attribute"), None)
        inv.add(name, "method", gen.format(name))
    module_members("torch.func")
    module_members("torch.nn")
    module_members("torch.nn.functional")
    module_members("torch.optim")
    utils = ("clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters")
    for n in utils:
        inv.add(f"torch.nn.utils.{n}", "function", gen.format(f"torch.nn.utils.{n}"))
    for n in ("GradcheckError",):
        full = f"torch.autograd.gradcheck.{n}"
        inv.add(full, "exception", gen.format(full))
    module_members("torch.testing", member_page="testing.html")
    module_members("torch.linalg")
    return inv


# -- NumPy ---------------------------------------------------------------------


def numpy_inventory() -> Inventory:
    import numpy as np

    inv = Inventory("NumPy", version("numpy"))
    inv.add("numpy", "module", "reference/index.html#module-numpy")
    inv.add("numpy.ndarray", "class", "reference/generated/numpy.ndarray.html#numpy.ndarray")
    for n in _public(dir(np)):
        try:
            obj = getattr(np, n)
        except Exception:  # noqa: BLE001
            continue
        role = _role(obj)
        if role is None:
            continue
        if role == "data" and not isinstance(obj, float | int):
            continue
        if role == "data":
            inv.add(f"numpy.{n}", "data", f"reference/constants.html#numpy.{n}")
            continue
        inv.add(f"numpy.{n}", role, f"reference/generated/numpy.{n}.html#numpy.{n}")
    for m, mrole in _class_members(np.ndarray):
        full = f"numpy.ndarray.{m}"
        inv.add(full, mrole, f"reference/generated/{full}.html#{full}")
    return inv


# -- Matplotlib ------------------------------------------------------------------


def matplotlib_inventory() -> Inventory:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.axes
    import matplotlib.figure
    import matplotlib.pyplot as plt

    inv = Inventory("Matplotlib", version("matplotlib"))
    inv.add("matplotlib", "module", "index.html#module-matplotlib")
    inv.add("matplotlib.pyplot", "module", "api/pyplot_summary.html#module-matplotlib.pyplot")
    inv.add("matplotlib.axes", "module", "api/axes_api.html#module-matplotlib.axes")
    inv.add("matplotlib.figure", "module", "api/figure_api.html#module-matplotlib.figure")
    inv.add("matplotlib.axes.Axes", "class", "api/axes_api.html#matplotlib.axes.Axes")
    inv.add("matplotlib.figure.Figure", "class", "api/figure_api.html#matplotlib.figure.Figure")
    for n in _public(dir(plt)):
        obj = getattr(plt, n)
        if not inspect.isfunction(obj) or obj.__module__ != "matplotlib.pyplot":
            continue
        full = f"matplotlib.pyplot.{n}"
        inv.add(full, "function", f"api/_as_gen/{full}.html#{full}")
    for cls, path in (
        (matplotlib.axes.Axes, "matplotlib.axes.Axes"),
        (matplotlib.figure.Figure, "matplotlib.figure.Figure"),
    ):
        for m, mrole in _class_members(cls):
            if hasattr(object, m):
                continue
            full = f"{path}.{m}"
            inv.add(full, mrole, f"api/_as_gen/{full}.html#{full}")
    return inv


# -- Python --------------------------------------------------------------------

STDLIB = ("math", "warnings", "functools", "itertools", "time")


def python_inventory() -> Inventory:
    inv = Inventory("Python", f"{sys.version_info.major}.{sys.version_info.minor}")
    for n in _public(dir(builtins)):
        obj = getattr(builtins, n)
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            inv.add(n, "exception", f"library/exceptions.html#{n}")
        elif inspect.isclass(obj):
            inv.add(n, "class", f"library/functions.html#{n}")
        elif callable(obj):
            inv.add(n, "function", f"library/functions.html#{n}")
        elif n in ("True", "False", "None", "NotImplemented", "Ellipsis"):
            inv.add(n, "data", f"library/constants.html#{n}")
    for modname in STDLIB:
        mod = importlib.import_module(modname)
        page = f"library/{modname}.html"
        inv.add(modname, "module", f"{page}#module-{modname}")
        for n in _public(getattr(mod, "__all__", None) or dir(mod)):
            obj = getattr(mod, n, None)
            if obj is None or isinstance(obj, types.ModuleType):
                continue
            if getattr(obj, "__module__", modname) not in (modname, f"_{modname}", None) and not (
                modname == "math" or modname == "time" or modname == "itertools"
            ):
                continue  # re-exported from elsewhere (typing helpers etc.)
            role = _role(obj)
            inv.add(f"{modname}.{n}", role, f"{page}#{modname}.{n}")
    return inv


BUILDERS = {
    "torch": torch_inventory,
    "numpy": numpy_inventory,
    "matplotlib": matplotlib_inventory,
    "python": python_inventory,
}


def download(out: Path) -> None:
    """Fetch the real objects.inv files (needs the network; never run by the build)."""
    for name, url in URLS.items():
        with urllib.request.urlopen(url + "objects.inv", timeout=60) as response:  # noqa: S310
            data = response.read()
        soi.Inventory(data)  # parse it: fail on an HTML error page rather than commit it
        (out / f"{name}.inv").write_bytes(data)
        print(f"{name}: downloaded {len(data)} bytes from {url}objects.inv")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--online", action="store_true", help="download the real inventories")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.online:
        download(args.out)
        return 0
    for name, build in BUILDERS.items():
        count = build().write(args.out / f"{name}.inv")
        print(f"{name}: {count} objects -> {args.out / (name + '.inv')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
