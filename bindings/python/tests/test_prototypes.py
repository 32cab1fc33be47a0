"""The ctypes mirror (nn/_lib.py) against include/nn.h.

nn.h is preprocessed with the system C preprocessor and parsed with
pycparser; every function prototype, struct, enum and macro declared there
must appear in _lib.py with exactly the same types, in the same order.
Struct layouts are also compared with what a C compiler computes.
"""

import ctypes
import os
import re
import shutil
import subprocess

import pytest
from pycparser import c_ast, c_parser

from nn import _lib

CC = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")

# Only the standard types nn.h uses; declared by hand so that no system
# header (which pycparser cannot parse) is needed.
PRELUDE = ("typedef unsigned long size_t;\ntypedef unsigned long long uint64_t;\n"
           "typedef long long int64_t;\n")

BASIC = {
    "int": ctypes.c_int,
    "unsigned int": ctypes.c_uint,
    "size_t": ctypes.c_size_t,
    "uint64_t": ctypes.c_uint64,
    "int64_t": ctypes.c_int64,
    "float": ctypes.c_float,
    "double": ctypes.c_double,
    "char": ctypes.c_char,
}


def _header_text(header_path):
    with open(header_path) as f:
        return f.read()


def _preprocess(header_path):
    text = _header_text(header_path)
    body = "\n".join(line for line in text.splitlines()
                     if not line.lstrip().startswith("#include"))
    assert CC, "a C compiler (cc) is needed to preprocess nn.h"
    # -undef: no __GNUC__ / __cplusplus, so NN_NODISCARD expands to nothing
    # and the extern "C" block disappears.
    result = subprocess.run([CC, "-E", "-P", "-undef", "-nostdinc", "-x", "c", "-"],
                            input=PRELUDE + body, capture_output=True, text=True, check=True)
    return result.stdout


@pytest.fixture(scope="module")
def ast(header_path):
    return c_parser.CParser().parse(_preprocess(header_path), filename="nn.h")


@pytest.fixture(scope="module")
def typedefs(ast):
    return {node.name: node for node in ast.ext if isinstance(node, c_ast.Typedef)}


@pytest.fixture(scope="module")
def functions(ast):
    return [node for node in ast.ext
            if isinstance(node, c_ast.Decl) and isinstance(node.type, c_ast.FuncDecl)]


# --------------------------------------------------------------------------
# C type -> the ctypes type the mirror must use
# --------------------------------------------------------------------------

class Mapper:
    def __init__(self, typedefs):
        self.typedefs = typedefs

    def of(self, node):
        if isinstance(node, c_ast.Typename) or isinstance(node, c_ast.Decl):
            return self.of(node.type)
        if isinstance(node, c_ast.PtrDecl):
            inner = node.type
            if isinstance(inner, c_ast.TypeDecl) and isinstance(inner.type, c_ast.IdentifierType):
                names = inner.type.names
                if names == ["char"]:
                    # const char * is a string; char * a writable buffer
                    return ctypes.c_char_p if "const" in inner.quals else ctypes.POINTER(ctypes.c_char)
                if names == ["void"]:
                    return ctypes.c_void_p
            return ctypes.POINTER(self.of(inner))
        if isinstance(node, c_ast.TypeDecl):
            t = node.type
            if isinstance(t, c_ast.IdentifierType):
                name = " ".join(t.names)
                if name == "void":
                    return None
                if name in BASIC:
                    return BASIC[name]
                if name in self.typedefs:
                    return self.of_typedef(name)
                raise AssertionError(f"unknown C type {name}")
            if isinstance(t, c_ast.Struct):
                return getattr(_lib, t.name)
            if isinstance(t, c_ast.Enum):
                return ctypes.c_int
        raise AssertionError(f"unhandled declarator {type(node).__name__}")

    def of_typedef(self, name):
        target = self.typedefs[name].type
        if isinstance(target, c_ast.PtrDecl) and isinstance(target.type, c_ast.FuncDecl):
            return getattr(_lib, name)  # function pointer type, checked on its own
        if isinstance(target, c_ast.TypeDecl) and isinstance(target.type, c_ast.Enum):
            return ctypes.c_int
        if isinstance(target, c_ast.TypeDecl) and isinstance(target.type, c_ast.Struct):
            return getattr(_lib, target.type.name)
        return self.of(target)


def _params(funcdecl):
    params = funcdecl.args.params if funcdecl.args else []
    # f(void) has no parameters
    if len(params) == 1 and isinstance(params[0], c_ast.Typename):
        t = params[0].type
        if isinstance(t, c_ast.TypeDecl) and getattr(t.type, "names", None) == ["void"]:
            return []
    return params


def _name(ctype):
    return "None" if ctype is None else getattr(ctype, "__name__", repr(ctype))


# --------------------------------------------------------------------------
# Functions
# --------------------------------------------------------------------------

def test_header_parses_and_declares_functions(functions):
    names = [f.name for f in functions]
    assert "nn_model_fit" in names and "nn_version" in names
    assert len(names) == len(set(names))


def test_every_function_is_bound_in_header_order(functions):
    assert [f.name for f in functions] == list(_lib.FUNCTIONS)
    for f in functions:
        assert hasattr(_lib, f.name), f"{f.name} is not mirrored in _lib.py"
        assert getattr(_lib, f.name) is getattr(_lib.lib, f.name)


def prototype_problems(decl, argtypes, restype, typedefs):
    """Differences between a C declaration and ctypes argtypes/restype."""
    mapper = Mapper(typedefs)
    params = _params(decl.type)
    expected_args = [mapper.of(p) for p in params]
    expected_ret = mapper.of(decl.type.type)
    name = decl.name
    if argtypes is None:
        return [f"{name}: argtypes not set"]
    problems = []
    if len(argtypes) != len(expected_args):
        problems.append(f"{name}: {len(argtypes)} argtypes, nn.h declares {len(expected_args)}")
    for i, (got, want) in enumerate(zip(argtypes, expected_args)):
        if got is not want:
            pname = getattr(params[i], "name", None) or f"#{i}"
            problems.append(f"{name} argument {pname}: ctypes {_name(got)}, nn.h {_name(want)}")
    if restype is not expected_ret:
        problems.append(f"{name}: restype {_name(restype)}, nn.h returns {_name(expected_ret)}")
    return problems


@pytest.mark.parametrize("name", _lib.FUNCTIONS)
def test_prototype(name, functions, typedefs):
    decl = next((f for f in functions if f.name == name), None)
    assert decl is not None, f"{name} is in _lib.FUNCTIONS but not in nn.h"
    fn = getattr(_lib, name)
    assert prototype_problems(decl, fn.argtypes, fn.restype, typedefs) == []


def test_prototype_check_detects_drift(functions, typedefs):
    """The comparison is not vacuous: each kind of drift is reported."""
    decl = next(f for f in functions if f.name == "nn_model_predict")
    good = list(_lib.nn_model_predict.argtypes)
    assert prototype_problems(decl, good, ctypes.c_int, typedefs) == []
    wrong_type = list(good)
    wrong_type[2] = ctypes.c_int  # rows: size_t -> int
    assert len(prototype_problems(decl, wrong_type, ctypes.c_int, typedefs)) == 1
    swapped = [good[0], good[2], good[1]] + good[3:]
    assert len(prototype_problems(decl, swapped, ctypes.c_int, typedefs)) == 2
    assert prototype_problems(decl, good[:-1], ctypes.c_int, typedefs)
    assert prototype_problems(decl, good, None, typedefs)
    assert prototype_problems(decl, None, ctypes.c_int, typedefs)


def test_status_returning_functions_are_nodiscard(header_path, functions, typedefs):
    """Each function returning nn_status carries NN_NODISCARD (header rule)."""
    text = _header_text(header_path)
    mapper = Mapper(typedefs)
    for f in functions:
        ret = f.type.type
        if isinstance(ret, c_ast.TypeDecl) and getattr(ret.type, "names", None) == ["nn_status"]:
            assert re.search(r"NN_NODISCARD\s+nn_status\s+" + f.name + r"\s*\(", text), f.name
            assert mapper.of(ret) is ctypes.c_int


@pytest.mark.parametrize("name", ["nn_epoch_callback", "nn_batch_callback"])
def test_callback_types(typedefs, name):
    target = typedefs[name].type
    assert isinstance(target, c_ast.PtrDecl) and isinstance(target.type, c_ast.FuncDecl)
    mapper = Mapper(typedefs)
    funcdecl = target.type
    expected_args = [mapper.of(p) for p in _params(funcdecl)]
    cb = getattr(_lib, name)
    assert cb._restype_ is mapper.of(funcdecl.type)
    assert list(cb._argtypes_) == expected_args
    assert cb._flags_ & ctypes._FUNCFLAG_CDECL


# --------------------------------------------------------------------------
# Structs
# --------------------------------------------------------------------------

def _header_structs(typedefs):
    structs = {}
    for name, node in typedefs.items():
        t = node.type
        if isinstance(t, c_ast.TypeDecl) and isinstance(t.type, c_ast.Struct) and t.type.decls:
            structs[name] = t.type.decls
    return structs


def test_every_struct_is_mirrored(typedefs):
    assert set(_header_structs(typedefs)) == set(_lib.STRUCTS)


@pytest.mark.parametrize("struct_name", sorted(_lib.STRUCTS))
def test_struct_fields(struct_name, typedefs):
    decls = _header_structs(typedefs)[struct_name]
    mapper = Mapper(typedefs)
    mirror = _lib.STRUCTS[struct_name]._fields_
    assert [d.name for d in decls] == [f[0] for f in mirror], struct_name
    for decl, (fname, ftype) in zip(decls, mirror):
        want = mapper.of(decl)
        assert ftype is want, f"{struct_name}.{fname}: ctypes {_name(ftype)}, nn.h {_name(want)}"


def test_struct_layout_matches_c_compiler(header_path, tmp_path):
    """sizeof and offsetof of every field, as cc computes them."""
    assert CC, "a C compiler (cc) is needed"
    lines = ["#include <stdio.h>", "#include <stddef.h>", f'#include "{header_path}"',
             "int main(void) {"]
    for sname, struct in _lib.STRUCTS.items():
        lines.append(f'printf("{sname} sizeof %zu\\n", sizeof({sname}));')
        for fname, _ in struct._fields_:
            lines.append(f'printf("{sname} {fname} %zu\\n", offsetof({sname}, {fname}));')
    lines += ["return 0;", "}"]
    src = tmp_path / "layout.c"
    exe = tmp_path / "layout"
    src.write_text("\n".join(lines))
    subprocess.run([CC, "-std=c99", "-o", str(exe), str(src)], check=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    seen = 0
    for line in out.splitlines():
        sname, field, value = line.split()
        struct = _lib.STRUCTS[sname]
        if field == "sizeof":
            assert ctypes.sizeof(struct) == int(value), f"sizeof({sname})"
        else:
            assert getattr(struct, field).offset == int(value), f"offsetof({sname}, {field})"
        seen += 1
    assert seen == sum(len(s._fields_) + 1 for s in _lib.STRUCTS.values())


# --------------------------------------------------------------------------
# Enums and macros
# --------------------------------------------------------------------------

def _header_enums(typedefs):
    enums = {}
    for name, node in typedefs.items():
        t = node.type
        if isinstance(t, c_ast.TypeDecl) and isinstance(t.type, c_ast.Enum):
            values = {}
            for e in t.type.values.enumerators:
                values[e.name] = int(e.value.value, 0)
            enums[name] = values
    return enums


def test_every_enum_value(typedefs):
    enums = _header_enums(typedefs)
    assert set(enums) == set(_lib.ENUMS)
    for enum_name, values in enums.items():
        assert _lib.ENUMS[enum_name] == values, enum_name
        for cname, value in values.items():
            assert getattr(_lib, cname) == value, cname
        # the enum's typedef is mirrored as c_int
        assert getattr(_lib, enum_name) is ctypes.c_int


def test_macros(header_path):
    text = _header_text(header_path)
    defines = dict(re.findall(r"^#define\s+(NN_[A-Z_]+)\s+(\S+)\s*$", text, re.M))
    for macro in ("NN_VERSION_MAJOR", "NN_VERSION_MINOR", "NN_VERSION_PATCH", "NN_MAX_DIMS"):
        assert getattr(_lib, macro) == int(defines[macro]), macro
    assert _lib.NN_VERSION_STRING == defines["NN_VERSION_STRING"].strip('"')


def test_library_version_matches_header():
    running = _lib.nn_version().decode()
    assert running == _lib.NN_VERSION_STRING
    major, minor, patch = (int(p) for p in running.split("."))
    assert (major, minor, patch) == (_lib.NN_VERSION_MAJOR, _lib.NN_VERSION_MINOR,
                                     _lib.NN_VERSION_PATCH)


def test_loader_error_lists_the_places(tmp_path):
    """Without a library anywhere, importing nn says where it looked."""
    import sys
    env = dict(os.environ, NN_LIBRARY="")
    pkg_copy = tmp_path / "nn"
    shutil.copytree(os.path.dirname(_lib.__file__), pkg_copy,
                    ignore=shutil.ignore_patterns("libnn.*", "__pycache__"))
    code = ("import sys; sys.path.insert(0, %r)\n"
            "try:\n    import nn\nexcept ImportError as e:\n    print('IMPORTERROR', e)\n")
    out = subprocess.run([sys.executable, "-c", code % str(tmp_path)], env=env,
                         capture_output=True, text=True, check=True).stdout
    assert "IMPORTERROR" in out
    assert str(pkg_copy / _lib.LIBRARY_NAME) in out
    assert "NN_LIBRARY" in out


def test_loader_rejects_a_bad_nn_library(tmp_path):
    import sys
    bogus = tmp_path / "libnn.so"
    bogus.write_text("not a library")
    env = dict(os.environ, NN_LIBRARY=str(bogus))
    code = ("import sys; sys.path.insert(0, %r)\n"
            "try:\n    import nn\nexcept ImportError as e:\n    print('IMPORTERROR', e)\n")
    binding_dir = os.path.dirname(os.path.dirname(_lib.__file__))
    out = subprocess.run([sys.executable, "-c", code % binding_dir], env=env,
                         capture_output=True, text=True, check=True).stdout
    assert "IMPORTERROR" in out and str(bogus) in out
