"""Mutation score for the docs: does every derivative the site prints reach a check?

``make mutation-docs`` runs every gallery script, MyST-NB page and gradkit
doctest once to find the places ("sites", a line of the page) that produce a
derivative or check a value, then reruns the page once per (site, mutation)
with that one site's results corrupted, and counts the mutant as caught when
the page fails. A surviving mutant is a derivative that no check looks at, or
a check too loose to notice the change.

How: the page's code is instrumented before it runs (NOTE: [Mutation sites]):
every call it makes goes through :func:`_call_site` and every power through
:func:`_power_site`, which recognise the derivative producers by identity and
corrupt what one chosen site returns. torch and gradkit are not patched; calls
made inside them are not sites. Code that ``torch.compile`` traces runs
uninstrumented (NOTE: [Compiled code is not instrumented]): its calls are not
sites, and the report marks the pages that compile.

What is mutated:

- derivative producers: ``torch.autograd.grad`` (its results),
  ``torch.autograd.backward`` / ``Tensor.backward`` (what it adds to each leaf's
  ``.grad``), ``torch.autograd.functional.*``, the functions built by
  ``torch.func.grad/jacrev/jacfwd/hessian/vjp`` and the result of
  ``torch.func.jvp`` and ``forward_ad.unpack_dual``, and each public gradkit
  function (as one producer: the autograd calls inside it are not mutated apart);
- checked values: the ``actual`` argument of ``torch.testing.assert_close``;
- powers of tracked tensors: ``t ** k`` with ``t.requires_grad`` becomes ``t ** (k + 1)``.

Mutations: scale by 1+1e-4, by 1.01 and by 2; add 1; flip the sign; replace by 0.
A mutant is caught when the page fails (a check raises) or when what it prints
no longer matches its reviewed recording (tests/site/test_recorded_values/:
``make test`` compares them too); the report counts the two apart. A mutant
that changes nothing the page prints or draws (0 scaled; 1 added to a first
derivative that is only differentiated again; a power under ``torch.no_grad()``)
is "equivalent" and not counted, and so is a multiple of a value checked to be
zero within a tolerance. Backward calls made more than
``TRAINING_LOOP_CALLS`` times from one line feed an optimizer, not a printed
value; they are reported, not counted.
"""

import argparse
import ast
import contextlib
import doctest
import functools
import importlib
import json
import math
import multiprocessing
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from autograd_site import inprocess as pagerun
from autograd_site.inprocess import (
    GALLERY_SCRIPTS,
    MYST_NB_PAGES,
    ROOT,
    numbers_in,
    run_gallery_source,
    run_myst_nb_page,
)
from autograd_site.project import RECORDED_RTOL

TRAINING_LOOP_CALLS = 20

MUTATIONS = {
    "scale 1+1e-4": lambda t: t * (1 + 1e-4),
    "scale 1.01": lambda t: t * 1.01,
    "scale 2": lambda t: t * 2,
    "add 1": lambda t: t + 1,
    "flip sign": lambda t: -t,
    "zero": torch.zeros_like,
}
POWER_MUTATION = "power + 1"


@dataclass
class Plan:
    """What one run does: record sites, or corrupt one site with one mutation."""

    target: tuple | None = None  # (kind, line, mutation name) or None to record
    sites: dict = field(default_factory=dict)  # (kind, line) -> calls
    fired: bool = False
    changed: bool = False
    zero_check: bool = False  # the targeted check compares with zero (see _assert_close)
    busy: bool = False


PLAN: Plan | None = None

# NOTE: [Mutation sites]
# A site is a call (or a power) in the page's own code, named by its line:
# "12" in a gallery script, "cell3:2" in a MyST-NB page or a doctest. The
# instrumented code calls _call_site(site, function, *args, **kwargs) in place
# of function(*args, **kwargs); _call_site runs the call and, when the function
# is a derivative producer, records the site or corrupts its result. While a
# producer runs (a page function under torch.func.grad, say), the sites inside
# it are not mutated apart: the outermost producer is the site.

# NOTE: [Compiled code is not instrumented]
# torch.compile (Dynamo) traces the page's functions, and with them the hooks
# their calls were routed through: the hooks' reads and writes of PLAN become
# guards and side effects, which changed what was captured (plot_24 got a second
# graph where the build has one, and failed its own check). So while Dynamo
# traces, the hooks call the function and nothing else
# (torch.compiler.is_compiling()), and the graphs are those of the build. The
# calls and powers inside compiled code are therefore not sites; the same
# function run eagerly elsewhere on the page still is.


# Builtins that read the frame that calls them: called from _call_site instead,
# zero-argument super() finds no class ("super(): __class__ cell not found": the two
# gradkit how-tos that subclass nn.Module failed unmutated) and locals() the hook's
# variables. None of them produces a derivative, so their calls are left as written.
READS_THE_CALLING_FRAME = frozenset({"super", "locals", "globals", "vars", "dir", "eval", "exec"})


class _Instrument(ast.NodeTransformer):
    """Route every call and power of a page's code through the mutation hooks."""

    def __init__(self, label):
        self.label = label

    def _site(self, node):
        return ast.Constant(f"{self.label}{node.lineno}")

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in READS_THE_CALLING_FRAME:
            return node
        call = ast.Call(
            func=ast.Name("__mutation_call__", ast.Load()),
            args=[self._site(node), node.func, *node.args],
            keywords=node.keywords,
        )
        return ast.copy_location(call, node)

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if not isinstance(node.op, ast.Pow):
            return node
        call = ast.Call(
            func=ast.Name("__mutation_pow__", ast.Load()),
            args=[self._site(node), node.left, node.right],
            keywords=[],
        )
        return ast.copy_location(call, node)


def _site_label(filename):
    """How sites of this code are named: "" (a script), "cellN:" (a notebook cell or doctest)."""
    if "#cell" in filename:
        return filename.rsplit("#", 1)[1] + ":"
    return ""


def instrumented_compile(source, filename, mode):
    """``compile`` for the in-process runner: the code, with its calls routed through the hooks."""
    tree = _Instrument(_site_label(filename)).visit(ast.parse(source, filename, mode))
    return compile(ast.fix_missing_locations(tree), filename, mode)


def _mutate_tree(value, mutate):
    """Apply ``mutate`` to every tensor in a (nested) tuple/list result."""
    if isinstance(value, torch.Tensor):
        return mutate(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return type(value)(mutate(torch.tensor(value, dtype=torch.float64)).item())
    if isinstance(value, tuple | list):
        return type(value)(_mutate_tree(v, mutate) for v in value)
    return value


def _differs(before, after):
    if isinstance(before, torch.Tensor):
        try:
            return not torch.equal(before.detach(), after.detach())
        except RuntimeError:  # batched tensors under vmap: assume the mutation changed them
            return True
    if isinstance(before, int | float):
        return before != after
    if isinstance(before, tuple | list):
        return any(_differs(b, a) for b, a in zip(before, after, strict=False))
    return False


def _intercept(kind, site, value):
    """Record a site, or mutate ``value`` when this is the targeted site."""
    plan = PLAN
    key = (kind, site)
    if plan.target is None:
        plan.sites[key] = plan.sites.get(key, 0) + 1
        return value
    if plan.target[:2] != key:
        return value
    plan.fired = True
    mutated = _mutate_tree(value, MUTATIONS[plan.target[2]])
    plan.changed |= _differs(value, mutated)
    return mutated


def _leaves(tensors):
    """The leaf tensors whose ``.grad`` a backward from ``tensors`` may write."""
    found, seen = [], set()
    stack = [t.grad_fn for t in tensors if t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        variable = getattr(node, "variable", None)
        if variable is not None:
            found.append(variable)
        stack.extend(next_node for next_node, _ in node.next_functions)
    return found


def _backward(site, call, tensors):
    """Run backward, then corrupt what it added to each leaf's ``.grad``."""
    tensors_seq = (tensors,) if isinstance(tensors, torch.Tensor) else tuple(tensors)
    leaves = _leaves(tensors_seq)
    before = [None if leaf.grad is None else leaf.grad.detach().clone() for leaf in leaves]
    result = call()
    for leaf, old in zip(leaves, before, strict=True):
        if leaf.grad is None:
            continue
        added = leaf.grad.detach() - (0 if old is None else old)
        mutated = _intercept("backward", site, added)
        if mutated is not added:
            with torch.no_grad():
                leaf.grad = (mutated if old is None else old + mutated).to(leaf.grad.dtype)
    return result


def _producing(site, function):
    """``function`` (built by a torch.func transform) with its results intercepted at ``site``."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if PLAN is None or PLAN.busy:
            return function(*args, **kwargs)
        return _intercept("derivative", site, _outermost(lambda: function(*args, **kwargs)))

    return wrapper


def _outermost(run):
    """Run a producer; the sites reached while it runs are not mutated apart."""
    plan = PLAN
    plan.busy = True
    try:
        return run()
    finally:
        plan.busy = False


MULTIPLICATIVE = {"scale 1+1e-4", "scale 1.01", "scale 2", "flip sign", "zero"}


def _all_zero(value):
    try:
        return bool((torch.as_tensor(value) == 0).all())
    except (TypeError, RuntimeError, ValueError):
        return False


@functools.cache
def _producers():
    """The derivative producers and checkers, by identity: kind of each."""
    import torch.autograd.forward_ad as forward_ad
    import torch.autograd.functional as functional

    import gradkit

    kinds = {torch.autograd.grad: "derivative", torch.autograd.backward: "backward"}
    for name in ("jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"):
        kinds[getattr(functional, name)] = "derivative"
    for name in ("grad", "jacrev", "jacfwd", "hessian", "grad_and_value"):
        kinds[getattr(torch.func, name)] = "transform"
    kinds[torch.func.vjp] = "func-vjp"
    kinds[torch.func.jvp] = "func-jvp"
    kinds[forward_ad.unpack_dual] = "unpack-dual"
    kinds[torch.testing.assert_close] = "check"
    for name in gradkit.__all__:
        function = getattr(gradkit, name)
        # an oracle (check_gradient) and classes are not producers
        if name != "check_gradient" and callable(function) and not isinstance(function, type):
            kinds[function] = "derivative"
    return kinds


def _kind_of(function):
    if getattr(function, "__func__", None) is torch.Tensor.backward:
        return "tensor-backward"
    try:
        return _producers().get(function)
    except TypeError:  # unhashable callables are not producers
        return None


def _call_site(site, function, *args, **kwargs):
    """A call in the page's code (NOTE: [Mutation sites])."""
    if torch.compiler.is_compiling():  # NOTE: [Compiled code is not instrumented]
        return function(*args, **kwargs)
    plan = PLAN
    kind = None if plan is None or plan.busy else _kind_of(function)
    if kind is None:
        return function(*args, **kwargs)
    call = functools.partial(function, *args, **kwargs)
    if kind == "derivative":
        return _intercept("derivative", site, _outermost(call))
    if kind == "backward":
        tensors = args[0] if args else kwargs["tensors"]
        return _backward(site, lambda: _outermost(call), tensors)
    if kind == "tensor-backward":
        return _backward(site, lambda: _outermost(call), function.__self__)
    if kind == "transform":
        return _producing(site, call())
    if kind == "func-vjp":
        out, vjp_fn = call()
        return out, _producing(site, vjp_fn)
    if kind == "func-jvp":
        out = _outermost(call)
        return (out[0], _intercept("derivative", site, out[1]), *out[2:])
    if kind == "unpack-dual":
        unpacked = call()
        return unpacked._replace(tangent=_intercept("derivative", site, unpacked.tangent))
    # a check: corrupt the value it checks
    actual = _intercept("check", site, args[0])
    expected = args[1] if len(args) > 1 else kwargs.get("expected")
    if plan.fired and plan.target[2] in MULTIPLICATIVE and _all_zero(expected):
        # "this is zero within atol" cannot tell a small value from a multiple of it
        plan.zero_check = True
    return function(actual, *args[1:], **kwargs)


def _power_site(site, base, exponent):
    """A power in the page's code: ``t ** k`` of a tracked tensor may become ``t ** (k + 1)``."""
    if torch.compiler.is_compiling():  # NOTE: [Compiled code is not instrumented]
        return base**exponent
    plan = PLAN
    if (
        plan is not None
        and not plan.busy
        and isinstance(base, torch.Tensor)
        and isinstance(exponent, int | float)
        and base.requires_grad
    ):
        key = ("power", site)
        if plan.target is None:
            plan.sites[key] = plan.sites.get(key, 0) + 1
        elif plan.target[:2] == key:
            plan.fired = plan.changed = True
            exponent = exponent + 1
    return base**exponent


HOOKS = {"__mutation_call__": _call_site, "__mutation_pow__": _power_site}


# -- pages -----------------------------------------------------------------------


def _pages(selected):
    pages = [("gallery", p.relative_to(ROOT).as_posix()) for p in GALLERY_SCRIPTS]
    pages += [("myst-nb", p.relative_to(ROOT).as_posix()) for p in MYST_NB_PAGES]
    pages += [("doctest", name) for name in _doctest_names()]
    if selected:
        pages = [p for p in pages if any(s in p[1] for s in selected)]
    return pages


def _doctest_modules():
    import gradkit

    names = ["gradkit"] + [f"gradkit.{p.stem}" for p in Path(gradkit.__file__).parent.glob("*.py")]
    return [importlib.import_module(n) for n in sorted(set(names)) if not n.endswith("__init__")]


def _doctest_names():
    tests = []
    for module in _doctest_modules():
        tests += [t.name for t in doctest.DocTestFinder().find(module) if t.examples]
    return sorted(set(tests))


def _run_doctest(name):
    for module in _doctest_modules():
        for test in doctest.DocTestFinder().find(module):
            if test.name == name:
                # each example is a "cell": sites are named "cellN:line"
                for index, example in enumerate(test.examples):
                    tree = _Instrument(f"cell{index}:").visit(ast.parse(example.source))
                    example.source = ast.unparse(ast.fix_missing_locations(tree)) + "\n"
                test.globs.update(HOOKS)
                runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
                with contextlib.redirect_stdout(None):
                    result = runner.run(test, out=lambda _: None)
                if result.failed:
                    raise AssertionError(f"doctest {name}: {result.failed} example(s) failed")
                return


def _run_page(kind, page):
    # Each run compiles afresh, as the page does when a reader runs it: the hooks'
    # own frames (compiled when a graph break falls inside one) would otherwise
    # collect cache entries across runs and reach Dynamo's recompile limit.
    torch.compiler.reset()
    if kind == "gallery":
        path = ROOT / page
        return run_gallery_source(
            path.read_text(), path, compile_code=instrumented_compile, namespace=HOOKS
        )
    if kind == "myst-nb":
        return run_myst_nb_page(ROOT / page, compile_code=instrumented_compile, namespace=HOOKS)
    _run_doctest(page)
    return ""


def _signed_zero_free(text):
    """``text`` with ``-0.`` written as ``0.``: a flipped zero is the same number."""
    return re.sub(r"-0\.(?!\d*[1-9])", "0.", text)


def _recorded_values(kind, page):
    """The reviewed recording of what ``page`` prints (tests/site/test_recorded_values/), if any."""
    if kind not in ("gallery", "myst-nb"):
        return None
    csv = ROOT / "tests" / "site" / "test_recorded_values" / f"{Path(page).stem}.csv"
    if not csv.exists():
        return None
    return [float(line.split(",")[1]) for line in csv.read_text().splitlines()[1:]]


def _matches(values, recorded):
    """Whether printed numbers equal the recording, as the recorded-values test judges."""
    return len(values) == len(recorded) and all(
        math.isclose(v, r, rel_tol=RECORDED_RTOL, abs_tol=0.0)
        for v, r in zip(values, recorded, strict=True)
    )


def score_page(args):
    """Record a page's sites, then run every (site, mutation); return the page's tally."""
    global PLAN
    kind, page = args
    PLAN = Plan()
    start = time.perf_counter()
    pagerun.CAPTURE_FIGURES = True
    tally = {
        "page": page,
        "kind": kind,
        "caught": 0,
        "tried": 0,
        "equivalent": 0,
        "excluded": [],
        "survivors": [],
        "caught_by_error": 0,
        "caught_by_recording": 0,
        "compiles": kind != "doctest" and "torch.compile" in (ROOT / page).read_text(),
        "unmutated_error": None,
    }
    try:
        baseline = _run_page(kind, page)
    except Exception as err:  # noqa: BLE001 - reported for this page; the others still run
        # A page that fails unmutated cannot tell a caught mutant from its own failure.
        tally["unmutated_error"] = f"{type(err).__name__}: {err}".splitlines()[0]
        tally["seconds"] = round(time.perf_counter() - start, 1)
        return tally
    baseline_figures = pagerun.last_figures_digest
    recorded = _recorded_values(kind, page)
    sites = PLAN.sites
    for (site_kind, line), calls in sorted(sites.items(), key=str):
        if site_kind == "backward" and calls > TRAINING_LOOP_CALLS:
            tally["excluded"].append(f"line {line}: {calls} calls (training loop)")
            continue
        names = [POWER_MUTATION] if site_kind == "power" else list(MUTATIONS)
        for name in names:
            PLAN = Plan(target=(site_kind, line, name))
            outcome = "survived"
            try:
                printed = _run_page(kind, page)
                shows_same = (
                    site_kind != "check"  # mutating a check's input never changes the page
                    and _signed_zero_free(printed) == _signed_zero_free(baseline)
                    and pagerun.last_figures_digest == baseline_figures
                )
                if shows_same or PLAN.zero_check:
                    PLAN.changed = False  # nothing the page prints or draws changed
                elif recorded is not None and not _matches(numbers_in(printed), recorded):
                    outcome = "recorded"
            except AssertionError:
                outcome = "caught"
            except Exception:  # noqa: BLE001 - any error stops the build: caught
                outcome = "error"
            if not (PLAN.fired and PLAN.changed):
                tally["equivalent"] += 1
                continue
            tally["tried"] += 1
            if outcome == "survived":
                tally["survivors"].append(f"{site_kind} at line {line}: {name}")
            else:
                tally["caught"] += 1
                tally["caught_by_error"] += outcome == "error"
                tally["caught_by_recording"] += outcome == "recorded"
    tally["seconds"] = round(time.perf_counter() - start, 1)
    return tally


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", help="substrings selecting pages (default: all)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default=str(ROOT / "_build" / "mutation-docs.json"))
    args = parser.parse_args()

    pages = _pages(args.pages)
    context = multiprocessing.get_context("fork")
    with context.Pool(args.jobs, maxtasksperchild=1) as pool:
        tallies = pool.map(score_page, pages, chunksize=1)

    header = f"{'page':<58}{'caught/tried':>13}{'by check':>9}{'by rec.':>8}{'equiv':>6}{'s':>6}"
    print(header)
    for t in tallies:
        by_check = t["caught"] - t["caught_by_recording"]
        print(
            f"{t['page']:<58}{t['caught']:>7}/{t['tried']:<5}{by_check:>9}"
            f"{t['caught_by_recording']:>8}{t['equivalent']:>6}{t['seconds']:>6}"
        )
        if t["unmutated_error"]:
            print(f"    FAILS UNMUTATED (not scored): {t['unmutated_error']}")
        if t["compiles"]:
            print("    note: code that torch.compile traces runs uninstrumented (not sites)")
        for line in t["excluded"]:
            print(f"    excluded {line}")
        for s in t["survivors"]:
            print(f"    SURVIVED {s}")
    caught = sum(t["caught"] for t in tallies)
    tried = sum(t["tried"] for t in tallies)
    by_recording = sum(t["caught_by_recording"] for t in tallies)
    failing = [t["page"] for t in tallies if t["unmutated_error"]]
    print(
        f"total: {caught}/{tried} caught ({100 * caught / max(tried, 1):.1f}%) over "
        f"{len(tallies) - len(failing)} pages; {caught - by_recording} by the pages' own "
        f"checks, {by_recording} only by the recorded values"
    )
    if failing:
        print(f"{len(failing)} page(s) fail unmutated and were not scored: {', '.join(failing)}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(tallies, indent=2))
    return 0 if caught == tried and tried > 0 and not failing else 1


if __name__ == "__main__":
    sys.exit(main())
