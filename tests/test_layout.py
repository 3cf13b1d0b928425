"The package's layout: imports go one way (no cycle, in-function imports included), no facades."
import ast
from pathlib import Path
import pytest

pkg = Path(__file__).resolve().parents[1]/'lesson7ext'
modules = sorted(p.stem for p in pkg.glob('*.py') if p.stem not in ('__init__', '_modidx'))

def imports(name):
    "The package modules `name` imports anywhere in its file (top level, in functions, under `if`): `{module: line}`."
    tree, out = ast.parse((pkg/f'{name}.py').read_text()), {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ''
            if node.level == 1: found = [mod.split('.')[0]] if mod else [a.name for a in node.names]
            elif mod.startswith('lesson7ext.'): found = [mod.split('.')[1]]
            elif mod == 'lesson7ext': found = [a.name for a in node.names]
            else: found = []
        elif isinstance(node, ast.Import): found = [a.name.split('.')[1] for a in node.names if a.name.startswith('lesson7ext.')]
        else: found = []
        for m in found:
            if m in modules and m != name: out.setdefault(m, node.lineno)
    return out

def find_cycle(graph):
    "One import cycle of `graph` as a list of modules, or `None`."
    state, stack = {}, []
    def visit(n):
        state[n] = 'open'; stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 'open': return stack[stack.index(m):] + [m]
            if m not in state and (c := visit(m)): return c
        state[n] = 'done'; stack.pop()
    for n in sorted(graph):
        if n not in state and (c := visit(n)): return c

def test_find_cycle_finds_one():
    assert find_cycle({'a': {'b': 1}, 'b': {'c': 1}, 'c': {'a': 1}}) == ['a', 'b', 'c', 'a']
    assert find_cycle({'a': {'b': 1}, 'b': {}, 'c': {'a': 1}}) is None

def test_imports_sees_function_level_imports():
    assert 'app' in imports('cli'), "cli imports app inside app_cmd: the scan must see it"

def test_no_import_cycle():
    graph = {m: imports(m) for m in modules}
    c = find_cycle(graph)
    assert c is None, 'import cycle: ' + ' -> '.join(f'{a} (line {graph[a][b]})' for a, b in zip(c, c[1:])) + f' -> {c[-1]}'

@pytest.mark.parametrize('name', modules)
def test_no_facade(name):
    tree = ast.parse((pkg/f'{name}.py').read_text())
    stars = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and any(a.name == '*' for a in n.names)]
    getattrs = [n.lineno for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == '__getattr__']
    assert not stars and not getattrs, f"{name}.py: star imports at lines {stars}, module __getattr__ at {getattrs}"

def test_library_work_is_not_in_cli():
    assert 'cli' not in imports('app') and 'cli' not in imports('batch') and 'cli' not in imports('demo')
    assert 'def restore_files' not in (pkg/'cli.py').read_text()

def test_import_changes_nothing_in_fastai():
    "Importing every module leaves fastai's classes as they were; `fix_fastai` (what `init_distributed` installs) changes them, once."
    import subprocess, sys
    code = f"""
import importlib, fastai.distributed as fd, fastai.vision.gan as fg
cls = (fd.DistributedTrainer, fd.DistributedDL, fg.AdaptiveGANSwitcher, fg.GANLearner)
before = [dict(vars(c)) for c in cls]
for m in {modules!r}: importlib.import_module('lesson7ext.' + m)
assert [dict(vars(c)) for c in cls] == before, 'an import patched fastai'
from lesson7ext.distributed import fix_fastai
fix_fastai(); fixed = [dict(vars(c)) for c in cls]; fix_fastai()
assert fixed != before and [dict(vars(c)) for c in cls] == fixed
"""
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
