"""An import-linter contract of our own: no import cycle between plain modules.

import-linter's `acyclic_siblings` works on packages (it would also refuse two domains that use
each other's public functions, which the design allows). This one looks at modules: a cycle is
two or more modules that reach each other through their imports, wherever they sit. Imports
inside functions count too, so a cycle can't be hidden by moving an import into a function.
Registered in pyproject.toml (`contract_types`), run by `lint-imports`.
"""

from __future__ import annotations

from collections.abc import Iterable

import grimp
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


def find_cycles(graph: grimp.ImportGraph, modules: Iterable[str]) -> list[list[str]]:
    """Each group of `modules` that import each other in a loop, as one loop through it
    (first module repeated at the end), sorted. Tarjan's algorithm, iterative."""
    inside = set(modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & inside) for m in inside}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    for root in sorted(inside):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, next_edge = work.pop()
            if next_edge == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            for position in range(next_edge, len(edges[node])):
                target = edges[node][position]
                if target not in index:
                    work.append((node, position + 1))
                    work.append((target, 0))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
    return sorted(_loop_through(group, edges) for group in groups)


def _loop_through(group: list[str], edges: dict[str, list[str]]) -> list[str]:
    """A shortest loop from the group's first module back to itself (breadth first)."""
    start, members = group[0], set(group)
    came_from: dict[str, str] = {}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in edges[node]:
            if target == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if target in members and target not in came_from:
                came_from[target] = node
                queue.append(target)
    raise AssertionError(f"{group} is not a cycle")  # Tarjan only groups modules in a loop


class AcyclicModulesContract(Contract):
    """No import cycle among the modules of `packages` (and of the packages inside them)."""

    type_name = "acyclic_modules"

    packages = fields.ListField(subfield=fields.StringField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        modules: set[str] = set()
        for package in self.packages:  # type: ignore[attr-defined]
            modules |= {package, *graph.find_descendants(package)}
        cycles = find_cycles(graph, modules)
        return ContractCheck(kept=not cycles, metadata={"cycles": cycles})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle in check.metadata["cycles"]:
            output.print_error(" -> ".join(cycle))
            output.new_line()
        output.print("Break each loop by design (move the shared part down, or let the caller")
        output.print("do the step that reaches back), not by a function-local import.")
