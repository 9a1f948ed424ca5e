"""Remove the build and the generated pages (``make clean``), or print them for sphinx-autobuild.

Usage: ``python -m autograd_site.cli.clean [--print-ignore]``
"""

import argparse
import shutil

from autograd_site.project import BUILD, DOCS, GENERATED


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--print-ignore",
        action="store_true",
        help="print sphinx-autobuild --ignore options for the generated pages",
    )
    args = parser.parse_args(argv)
    if args.print_ignore:
        print(" ".join(f'--ignore "*/{name}*"' for name in GENERATED))
        return 0
    for path in [BUILD, *(DOCS / name for name in GENERATED)]:
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
