"""Case files: what to differentiate and how to build its inputs (docs/case-format.md).

A case is a small TOML file beside a model::

    module = "burgers.py"      # the model's file, relative to this case file
    head = "cost"              # the function to differentiate; returns a scalar
    wrt = ["u0", "nu"]         # parameters of the head to differentiate with respect to
    inputs = "make_inputs"     # a function of the module returning a dict: head parameter -> value

    [inputs_args]              # keyword arguments of the inputs function (optional table)
    size = 1.0

Every mistake in a case file is a :class:`UsageError` naming the file, what is wrong and what to
do; nothing here lets a traceback reach the user.
"""
import difflib
import importlib.machinery
import importlib.util
import inspect
import io
import re
import sys
import sysconfig
import tokenize
import tomllib
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import FunctionType, ModuleType

import numpy as np

from .errors import UsageError
from .fileio import shown

KEYS = ("module", "head", "wrt", "inputs", "inputs_args")
REQUIRED = ("module", "head", "wrt", "inputs")
MEANING = {
    "module": "the model's file, relative to the case file, e.g. module = \"model.py\"",
    "head": "the function to differentiate, e.g. head = \"cost\"",
    "wrt": "the head's parameters to differentiate with respect to, e.g. wrt = [\"x\"]",
    "inputs": "a function of the module returning the head's arguments, e.g. inputs = \"make_inputs\"",
}
_ADJOIN_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Case:
    """A loaded case file: the head function, what to differentiate, and how to build its inputs."""
    path: Path                  # the case file
    module: ModuleType          # the model, loaded from its file
    head: FunctionType          # the function to differentiate
    wrt: tuple                  # names of head parameters
    inputs_function: str        # name of the module's function building the head's arguments
    inputs_args: dict = field(hash=False)   # its keyword arguments, --set overrides applied

    def build_inputs(self):
        """Calls the inputs function; returns its dict of head arguments, checked against the head."""
        where = shown(self.path)
        function = getattr(self.module, self.inputs_function)
        call = call_text(self.inputs_function, self.inputs_args)
        try:
            inputs = function(**self.inputs_args)
        except (Exception, SystemExit) as error:
            raise UsageError(f"{where}: {call} raised {describe_exception(error)}; "
                             "fix the inputs function or its arguments ([inputs_args], --set)") from None
        if not isinstance(inputs, dict):
            example = ", ".join(f"{p}=..." for p in required_parameters(self.head))
            raise UsageError(f"{where}: {call} returned {type(inputs).__name__}, not a dict of "
                             f"{self.head.__name__} parameter -> value; return for example "
                             f"dict({example})")
        parameters = inspect.signature(self.head).parameters
        takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
        for name in inputs:
            if not isinstance(name, str):
                raise UsageError(f"{where}: {call} returned a dict with key {name!r}; "
                                 "its keys must be the names of the head's parameters")
            if name not in parameters and not takes_any:
                raise UsageError(f"{where}: {call} returned a value for {name!r}, but "
                                 f"{signature_text(self.head)} has no parameter {name!r}"
                                 f"{did_you_mean(name, parameters)}")
        for name in required_parameters(self.head):
            if name not in inputs:
                raise UsageError(f"{where}: {call} returned no value for {name!r}; the dict must "
                                 f"give every parameter of {signature_text(self.head)} "
                                 "that has no default")
        for name in self.wrt:
            if name not in inputs:
                raise UsageError(f"{where}: 'wrt' names {name!r}, but {call} returned no value "
                                 f"for it; return {name} in the dict so it can be differentiated")
            value = inputs[name]
            if not is_float_kind(value):
                raise UsageError(f"{where}: 'wrt' names {name!r}, but {call} gives it "
                                 f"{kind_text(value)}; only floats and float arrays can be "
                                 "differentiated (write 1.0 for 1, or np.asarray(..., dtype=float))")
        return dict(inputs)


def load_case(path, overrides=None):
    """Reads the case file at ``path``; ``overrides`` are ``KEY=VALUE`` strings for [inputs_args]."""
    path = Path(path)
    where = shown(path)
    data = _read_toml(path)
    unknown = [key for key in data if key not in KEYS]
    if unknown:
        key = unknown[0]
        hint = did_you_mean(key, KEYS) or ("; a case has the keys module, head, wrt, inputs and "
                                           "the table [inputs_args]")
        raise UsageError(f"{where}: unknown key {key!r}{hint}")
    for key in REQUIRED:
        if key not in data:
            raise UsageError(f"{where}: missing key {key!r}: {MEANING[key]}")
    for key in ("module", "head", "inputs"):
        if not isinstance(data[key], str) or not data[key]:
            raise UsageError(f"{where}: {key!r} must be a non-empty string: {MEANING[key]}")
    wrt = data["wrt"]
    if isinstance(wrt, str):
        wrt = [wrt]
    if not isinstance(wrt, list) or not all(isinstance(name, str) for name in wrt):
        raise UsageError(f"{where}: 'wrt' must be a list of parameter names: {MEANING['wrt']}")
    args = data.get("inputs_args", {})
    if not isinstance(args, dict):
        raise UsageError(f"{where}: 'inputs_args' must be a table of keyword arguments of the "
                         "inputs function, e.g. [inputs_args] then size = 1.0 on the next line")

    module_path = path.parent / data["module"]
    if not module_path.is_file():
        problem = "is a folder" if module_path.is_dir() else "does not exist"
        raise UsageError(f"{where}: 'module' names {data['module']!r}, but {shown(module_path)} "
                         f"{problem}; give the model's .py file, relative to the case file's folder")
    try:
        module = load_module(module_path)
    except UsageError as error:
        raise UsageError(f"{where}: cannot import {data['module']!r}: {error}") from None
    label = module_path.name
    head = find_function(module, data["head"], label, f"{where}: 'head' names {data['head']!r}, but ")
    check_wrt(head, tuple(wrt), f"{where}: 'wrt'")
    inputs = find_function(module, data["inputs"], label,
                           f"{where}: 'inputs' names {data['inputs']!r}, but ")

    given = dict(args)
    overridden = {}
    for text in overrides or ():
        key, value = parse_override(text, where)
        given[key] = value
        overridden[key] = text
    _check_inputs_args(inputs, given, overridden, where)
    return Case(path=path, module=module, head=head, wrt=tuple(wrt),
                inputs_function=data["inputs"], inputs_args=given)


def load_module(path):
    """Imports the Python file at ``path`` as a fresh module, its folder first on sys.path meanwhile.

    The module is registered in sys.modules under a name of its own (``adjoin_case_<stem>``), so
    that it never replaces another module.  Modules it imports from its folder (``import physics``)
    are registered under their usual names, as a plain ``python model.py`` run would do; a module
    of that name left over from another case's folder is dropped first, never silently reused.
    """
    path = Path(path)
    if path.suffix != ".py":
        raise UsageError(f"{shown(path)}: not a Python file; adjoin reads models from .py files")
    if path.is_dir():
        raise UsageError(f"{shown(path)}: is a folder; give the model's .py file")
    if not path.is_file():
        raise UsageError(f"{shown(path)}: no such file")
    _check_source_text(path)
    folder = path.resolve().parent
    name = _free_module_name("adjoin_case_" + re.sub(r"\W", "_", path.stem))
    loader = importlib.machinery.SourceFileLoader(name, str(path))
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    _forget_stale_siblings(folder)
    sys.modules[name] = module
    sys.path.insert(0, str(folder))
    try:
        loader.exec_module(module)
    except (Exception, SystemExit) as error:
        sys.modules.pop(name, None)
        raise UsageError(_import_failure(error, path)) from None
    finally:
        if str(folder) in sys.path:
            sys.path.remove(str(folder))
    return module


def _check_source_text(path):
    """Refuses a module file adjoin could import but not read back as text (it reads the source
    of the functions it differentiates): unreadable, or not in its declared encoding (UTF-8 by
    default)."""
    try:
        data = path.read_bytes()
    except PermissionError:
        raise UsageError(f"{shown(path)}: cannot read it (permission denied); make it readable "
                         "(chmod u+r)") from None
    except OSError as error:
        raise UsageError(f"{shown(path)}: cannot read it ({error.strerror or error})") from None
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:            # an unknown encoding declared, or bytes that are
        encoding, declared = "utf-8", error.msg     # not UTF-8 in the first two lines
    else:
        declared = None
    try:
        data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise UsageError(f"{shown(path)}:{line}: not {error.encoding.upper()} text (byte "
                         f"0x{data[error.start]:02x}); save the file as UTF-8, or declare its "
                         "encoding on its first line (# -*- coding: latin-1 -*-)") from None
    if declared is not None:
        raise UsageError(f"{shown(path)}: {declared}; declare an encoding Python knows, or save "
                         "the file as UTF-8") from None


def find_function(module, name, label, lead):
    """The Python function ``name`` of ``module`` (shown as ``label``); messages start with ``lead``."""
    found = getattr(module, name, None)
    if found is None:
        functions = sorted(n for n, v in vars(module).items()
                           if inspect.isfunction(v) and not n.startswith("_"))
        hint = did_you_mean(name, functions)
        if hint:
            hint = hint.lstrip("; ")
        elif functions:
            hint = "its functions are " + ", ".join(functions)
        else:
            hint = "it defines no functions"
        raise UsageError(f"{lead}{label} has no function {name!r}; {hint}")
    if not inspect.isfunction(found):
        raise UsageError(f"{lead}{name} in {label} is {kind_text(found)}, not a function "
                         "defined with def")
    return found


def check_wrt(head, wrt, lead):
    """Checks that ``wrt`` names distinct parameters of ``head``; messages start with ``lead``."""
    parameters = inspect.signature(head).parameters
    if not wrt:
        raise UsageError(f"{lead} is empty; name at least one parameter of {signature_text(head)}")
    for position, name in enumerate(wrt):
        if name not in parameters:
            hint = did_you_mean(name, parameters) or f"; choose among {', '.join(parameters)}"
            raise UsageError(f"{lead} names {name!r}, but {signature_text(head)} has no parameter "
                             f"{name!r}{hint}")
        if parameters[name].kind in (inspect.Parameter.VAR_POSITIONAL,
                                     inspect.Parameter.VAR_KEYWORD):
            raise UsageError(f"{lead} names {name!r}, a catch-all parameter of "
                             f"{signature_text(head)}; name ordinary parameters only")
        if name in wrt[:position]:
            raise UsageError(f"{lead} names {name!r} twice; name each parameter once")


def parse_override(text, where="--set"):
    """``'size=0.5'`` -> ``('size', 0.5)``: the value in TOML syntax; a bare word is a string."""
    key, equals, value = text.partition("=")
    key, value = key.strip(), value.strip()
    if not equals or not key.isidentifier():
        raise UsageError(f"{where}: --set {text!r}: expected KEY=VALUE with KEY an argument of "
                         "the inputs function, e.g. --set size=0.5")
    try:
        parsed = tomllib.loads(f"value = {value}")
    except tomllib.TOMLDecodeError:
        parsed = None
    if parsed is not None and list(parsed) == ["value"]:
        return key, parsed["value"]
    if re.fullmatch(r"[A-Za-z_][\w.-]*", value):
        return key, value
    raise UsageError(f"{where}: --set {text!r}: {value!r} is not a TOML value; write numbers "
                     "as 0.5 or 3, strings as upwind or '\"two words\"', lists as [1, 2]")


def signature_text(function):
    """``cost(x, n)``: a function's name and parameter names, as messages show it."""
    names = []
    for parameter in inspect.signature(function).parameters.values():
        star = {parameter.VAR_POSITIONAL: "*", parameter.VAR_KEYWORD: "**"}.get(parameter.kind, "")
        names.append(star + parameter.name)
    return f"{function.__name__}({', '.join(names)})"


def call_text(name, kwargs):
    """``make_inputs(size=1.0, seed=0)``: a call as messages show it."""
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"


def required_parameters(function):
    """Names of the parameters of ``function`` that have no default."""
    return [p.name for p in inspect.signature(function).parameters.values()
            if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def did_you_mean(name, choices):
    """``"; did you mean 'cost'?"`` when a choice is close to ``name``, else ``""``."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def is_float_kind(value):
    """True for values adjoin can differentiate: floats and arrays of floats."""
    if isinstance(value, np.ndarray):
        return value.dtype.kind == "f"
    return isinstance(value, (float, np.floating))


def kind_text(value):
    """``int 3``, ``int64 array of shape (4,)``: what a value is, for messages."""
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array of shape {value.shape}"
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{type(value).__name__} {text}"


def describe_exception(error):
    """``ValueError: bad size (model.py:12)``: an exception and the user's line that raised it."""
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    frame = _user_frame(error)
    return f"{text} ({shown(frame.filename)}:{frame.lineno})" if frame else text


def _user_frame(error):
    """The innermost traceback frame in the user's own files (not adjoin, NumPy or the stdlib)."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if _is_user_file(f.filename)]
    return frames[-1] if frames else None


def _is_user_file(filename):
    path = Path(filename)
    if not path.is_file():      # <frozen importlib...>, Cython's numpy/random/_common.pyx
        return False
    folders = {_ADJOIN_DIR} | {Path(sysconfig.get_paths()[key]).resolve()
                               for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    return not folders & set(path.resolve().parents)


def _import_failure(error, path):
    """The message for a module that failed to import: where, what, and a hint."""
    if isinstance(error, SyntaxError) and error.filename:
        where = f"{shown(error.filename)}:{error.lineno}"
        if error.offset:
            where += f":{error.offset}"
        return f"{where}: {type(error).__name__}: {error.msg}; fix the module so Python can import it"
    frame = _user_frame(error)
    where = f"{shown(frame.filename)}:{frame.lineno}" if frame else shown(path)
    text = f"{where}: {type(error).__name__}: {error}" if str(error) else f"{where}: {type(error).__name__}"
    if isinstance(error, ModuleNotFoundError):
        return (f"{text}; adjoin imports {path.name} with its folder first on sys.path, so its "
                f"sibling files are found; is {error.name!r} installed in this Python "
                f"({sys.executable})?")
    return f"{text}; fix the module so Python can import it"


def _free_module_name(base):
    """``base``, or ``base_2``, ``base_3``... whichever sys.modules does not hold yet."""
    name, number = base, 1
    while name in sys.modules:
        number += 1
        name = f"{base}_{number}"
    return name


def _forget_stale_siblings(folder):
    """Drops from sys.modules the modules an ``import`` in ``folder`` must not reuse.

    A module named like one of ``folder``'s files, loaded earlier from another folder that is not
    on sys.path (another case's folder, put there only while importing), would otherwise be
    returned by ``import physics`` here: the other project's code, run silently.  Modules found
    through sys.path (the standard library, installed packages) are left alone.
    """
    names = {p.stem for p in folder.glob("*.py")}
    names |= {p.name for p in folder.iterdir() if (p / "__init__.py").is_file()}
    search = {Path(entry or ".").resolve() for entry in sys.path}
    for name in names & set(sys.modules):
        file = getattr(sys.modules[name], "__file__", None)
        if file is None:
            continue
        file = Path(file).resolve()
        origin = file.parent.parent if file.name == "__init__.py" else file.parent
        if origin == folder or origin in search:
            continue
        for loaded in [n for n in sys.modules if n == name or n.startswith(name + ".")]:
            del sys.modules[loaded]


def _read_toml(path):
    """The case file's TOML table, or a UsageError saying why it cannot be read."""
    where = shown(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{where}: no such case file") from None
    except IsADirectoryError:
        raise UsageError(f"{where}: is a folder; give the case's .toml file") from None
    except PermissionError:
        raise UsageError(f"{where}: cannot read the case file (permission denied); make it "
                         "readable (chmod u+r)") from None
    except UnicodeDecodeError as error:
        raise UsageError(f"{where}: not a case file: it is not UTF-8 text (byte 0x"
                         f"{error.object[error.start]:02x} at offset {error.start}); a case is a "
                         "TOML file, see docs/case-format.md") from None
    except OSError as error:
        raise UsageError(f"{where}: cannot read the case file ({error.strerror or error})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        found = re.search(r"\(at line (\d+), column (\d+)\)$", message)
        if found:
            where = f"{where}:{found[1]}:{found[2]}"
            message = message[:found.start()].rstrip()
        raise UsageError(f"{where}: not valid TOML: {message}; see docs/case-format.md "
                         "for the format of a case") from None


def _check_inputs_args(function, given, overridden, where):
    """Checks that the inputs function accepts ``given`` as keyword arguments."""
    parameters = inspect.signature(function).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    for key in given:
        if key not in parameters and not takes_any:
            source = f"--set {overridden[key]!r}" if key in overridden else "[inputs_args]"
            raise UsageError(f"{where}: {source} gives {key!r}, but {signature_text(function)} has "
                             f"no parameter {key!r}{did_you_mean(key, parameters)}")
    for name in required_parameters(function):
        if name not in given:
            raise UsageError(f"{where}: {signature_text(function)} needs {name!r}; give it in "
                             f"[inputs_args] or with --set {name}=VALUE")
