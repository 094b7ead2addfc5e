"""Time the YAML steps of a run on one file: reading it, and writing its data fast and through the reference.

`python bench/yaml_io.py FRAMEWORK.yaml [...]` prints, for each file, the seconds `read_yaml` takes (the
libyaml fast path, as `qms diff` and `qms consolidate` read), and `dump_yaml` against
`dump_yaml_reference` (PyYAML's pure-Python emitter) on the data read, and whether the two wrote the same
text. Timings on a shared machine are noisy: it prints the load average beside them, and runs the steps
back to back so that both see the same conditions.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from qms_standards.files import dump_yaml, dump_yaml_reference
from qms_standards.yamlsource import read_yaml


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--no-reference", action="store_true", help="Skip the (slow) reference writer.")
    args = parser.parse_args()
    for path in args.files:
        start = time.perf_counter()
        document = read_yaml(path, [])
        read = time.perf_counter() - start
        assert document is not None, f"{path} does not read cleanly"
        start = time.perf_counter()
        fast = dump_yaml(document.data)
        written = time.perf_counter() - start
        figures = f"read {read:.2f} s, write {written:.2f} s"
        if not args.no_reference:
            start = time.perf_counter()
            reference = dump_yaml_reference(document.data)
            slow = time.perf_counter() - start
            figures += f", reference write {slow:.2f} s, same text: {fast == reference}"
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"{path} ({path.stat().st_size / 1e6:.1f} MB): {figures}; load average {load}")


if __name__ == "__main__":
    main()
