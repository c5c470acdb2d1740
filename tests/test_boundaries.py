"""Who may touch what, read from the code (AST): the deployment's state machine is changed only by
``remote/deploy.py`` (every other remote module gets a link, a plan or plain values), and commands in ``cli/``
print only through the output owner (``cli/_console.py``; ``cli/_progress.py`` and ``cli/_deploy_progress.py`` draw live progress)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "harness"


def _modules(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        yield path, ast.parse(path.read_text(), str(path))


def test_no_remote_module_but_deploy_takes_or_changes_a_deployment():
    offences = []
    for path, tree in _modules("remote"):
        if path.name == "deploy.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "harness.remote.deploy":
                offences.append(f"{path.name}:{node.lineno}: imports from remote.deploy")
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for a in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
                    note = ast.unparse(a.annotation) if a.annotation else ""
                    if a.arg in ("d", "deployment") or "Deployment" in note:
                        offences.append(f"{path.name}:{node.lineno}: {node.name}({a.arg}) takes a deployment")
            if isinstance(node, ast.Name) and node.id == "Deployment":
                offences.append(f"{path.name}:{node.lineno}: names Deployment")
    assert not offences, "\n".join(offences)


def test_cli_commands_print_only_through_the_output_owner():
    """No ``print``, no console made or printed to, no ``sys.stdout``/``stderr``, no ``typer.echo`` outside the owner:
    every command shows what it has through ``output()`` (``Output``: show, line, flagged, text, json, document,
    results, comparison, closing)."""
    offences = []
    for path, tree in _modules("cli"):
        if path.name in ("_console.py", "_progress.py", "_deploy_progress.py"):
            continue
        for node in ast.walk(tree):
            where = f"{path.name}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Call):
                f = node.func
                name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
                if name in ("print", "echo", "secho", "console", "Console", "print_json", "write"):
                    offences.append(f"{where}: {ast.unparse(f)}()")
            if isinstance(node, ast.Attribute) and ast.unparse(node) in ("sys.stdout", "sys.stderr"):
                offences.append(f"{where}: {ast.unparse(node)}")
            if isinstance(node, ast.ImportFrom) and node.module == "harness.cli._console":
                names = {a.name for a in node.names}
                if names - {"output", "Output"}:
                    offences.append(f"{where}: imports {', '.join(sorted(names - {'output', 'Output'}))} from _console")
    assert not offences, "commands print through cli/_console.output():\n" + "\n".join(offences)
