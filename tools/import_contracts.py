"""An import-linter contract the built-in ones cannot say: "these modules may import only these".

``forbidden`` lists what may not be imported, so a package added later slips past it; this
contract lists what may be, so everything else, present or future, is refused. The faces (the
console and the CLI) use it to import from the engine only its public surface: the facade,
the result types, the errors and the formatting helpers (pyproject.toml, [tool.importlinter]).
"""

from __future__ import annotations

from typing import Any

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output


class OnlyImportsContract(Contract):
    """Modules in ``source_modules`` (and below them) import nothing from ``target_package``
    except the package itself (its ``__init__``), ``allowed_modules`` (and what is below them)
    and their own modules. ``ignore_imports`` names exceptions as ``importer -> imported``."""

    type_name = "only_imports"

    source_modules = fields.ListField(subfield=fields.ModuleField())
    target_package = fields.ModuleField()
    allowed_modules = fields.ListField(subfield=fields.ModuleField())
    ignore_imports = fields.ListField(subfield=fields.StringField(), required=False, default=[])

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        target = self.target_package.name  # type: ignore[attr-defined]
        allowed = [module.name for module in self.allowed_modules]  # type: ignore[attr-defined]
        ignored = {tuple(part.strip() for part in item.split("->")) for item in self.ignore_imports}  # type: ignore[attr-defined]
        violations: list[dict[str, Any]] = []
        for source in self.source_modules:  # type: ignore[attr-defined]
            importers = {source.name} | graph.find_descendants(source.name)
            for importer in sorted(importers):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    permitted = (
                        not _within(imported, target)
                        or imported == target
                        or _within(imported, source.name)
                        or any(_within(imported, module) for module in allowed)
                        or (importer, imported) in ignored
                    )
                    if permitted:
                        continue
                    lines = [
                        detail["line_number"]
                        for detail in graph.get_import_details(importer=importer, imported=imported)
                    ]
                    violations.append({"importer": importer, "imported": imported, "lines": lines})
        return ContractCheck(kept=not violations, metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        allowed = ", ".join(module.name for module in self.allowed_modules)  # type: ignore[attr-defined]
        for violation in check.metadata["violations"]:
            where = ", ".join(f"l.{line}" for line in violation["lines"])
            output.print_error(f"{violation['importer']} imports {violation['imported']} ({where})")
            output.new_line()
        output.print(f"From {self.target_package.name}, only these may be imported: {allowed}.")  # type: ignore[attr-defined]


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")
