"""Print a seeded uniform random sample of mutmut's mutant names, one per line.

Run it in the mutation copy of the project (make mutation MUTATION_SAMPLE=N does): it reads
the [mutmut] section of setup.cfg there and asks mutmut's own generator for the mutants of
every file that `mutmut run` would mutate, so the names are exactly the ones `mutmut run`
accepts. A full run over app/engine and app/executor takes many hours on a small machine; a
sample of a few hundred estimates the score over all modules in one sitting.

    python tools/mutation_sample.py N SEED
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from mutmut.mutation.file_mutation import mutate_file_contents
from mutmut.utils.file_utils import walk_mutatable_files
from mutmut.utils.format_utils import get_mutant_name


def all_mutant_names() -> list[str]:
    """Every mutant name mutmut generates for the configured scope, sorted.

    Sorting makes the sample depend on the seed and the code only, not on the order in
    which the file system lists the modules.
    """
    names: list[str] = []
    for path in walk_mutatable_files():
        mutated = mutate_file_contents(str(path), Path(path).read_text())
        names.extend(get_mutant_name(path, name) for name in mutated.mutant_names)
    return sorted(names)


def sample(names: list[str], size: int, seed: int) -> list[str]:
    """`size` names drawn uniformly without replacement; all of them when there are fewer."""
    return sorted(random.Random(seed).sample(names, min(size, len(names))))


def main(argv: list[str]) -> int:
    if len(argv) != 3 or not argv[1].isdigit() or not argv[2].lstrip("-").isdigit():
        print(f"usage: {argv[0]} N SEED  (N mutants to draw, SEED an integer)", file=sys.stderr)
        return 2
    names = all_mutant_names()
    if not names:
        print("no mutants found: run this in the directory whose setup.cfg has the [mutmut] "
              "section (make mutation MUTATION_SAMPLE=N does)", file=sys.stderr)
        return 1
    chosen = sample(names, int(argv[1]), int(argv[2]))
    print(f"sampled {len(chosen)} of {len(names)} mutants", file=sys.stderr)
    print("\n".join(chosen))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
