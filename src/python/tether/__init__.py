# SPDX-License-Identifier: AGPL-3.0-or-later
"""tether's Python API: set up, query and remove reverse SSH tunnels.

The same operations as ``tether setup|status|remove``, through libtether
(ctypes: nothing to compile). Each returns a dict with ``success``,
``stdout``, ``stderr`` and ``exit_code`` (the command line's), and for
``status`` the tunnels as parsed JSON under ``tunnels``::

    import tether
    tether.setup(2222, "user@bastion.example.com", "~/.ssh/id_ed25519", user=True)
    tether.status(port=2222)
    tether.remove(2222, user=True)

Options are keyword arguments named as libtether's (see libtether(3)):
target, known_hosts, host_key_policy, host_key, run_as, user, dry_run,
no_start, wait, proxy_jump. ``scitex_tunnel`` offers the same functions under the
seed's name.
"""
import ctypes
import json
import os

from . import _build

__all__ = ["setup", "status", "remove", "__version__"]
__version__ = _build.VERSION

# The seed's keyword names, for scripts written against scitex-tunnel.
_ALIASES = {"bastion_server": "bastion", "secret_key_path": "key"}
_PATHS = ("key", "known_hosts")


def _load():
    """libtether by its soname, else beside this module's install prefix."""
    tried = [_build.SONAME]
    try:
        return ctypes.CDLL(_build.SONAME)
    except OSError:
        pass
    here = os.path.dirname(os.path.abspath(__file__))
    pydir = os.path.join(_build.PYTHON_DIR, "tether")
    if not os.path.isabs(pydir) and here.endswith(os.sep + pydir):
        prefix = here[: -len(pydir) - 1]
        path = os.path.join(prefix, _build.LIBDIR, _build.SONAME)
        tried.append(path)
        try:
            return ctypes.CDLL(path)
        except OSError:
            pass
    raise ImportError(
        "tether's Python API needs libtether (tried %s): install the "
        "libtether0 package (apt-get install libtether0), or build tether "
        "and run cmake --install" % ", ".join(tried))


def _declare(lib):
    opts, res, text = ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p
    for name, restype, argtypes in (
            ("tether_options_new", opts, []),
            ("tether_options_free", None, [opts]),
            ("tether_options_set", ctypes.c_int, [opts, text, text]),
            ("tether_setup", res, [opts]),
            ("tether_status", res, [opts]),
            ("tether_remove", res, [opts]),
            ("tether_result_success", ctypes.c_int, [res]),
            ("tether_result_exit_code", ctypes.c_int, [res]),
            ("tether_result_stdout", text, [res]),
            ("tether_result_stderr", text, [res]),
            ("tether_result_json", text, [res]),
            ("tether_result_free", None, [res])):
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    return lib


_lib = _declare(_load())


def _value(value):
    if isinstance(value, bool):
        return b"yes" if value else b"no"
    return str(value).encode()


def _call(function, caller, options):
    """Runs tether_<function> with options; the result as a dict."""
    o = _lib.tether_options_new()
    if not o:
        raise MemoryError("tether_options_new")
    try:
        for name, value in options.items():
            name = _ALIASES.get(name, name)
            if value is None:
                continue
            if name in _PATHS:
                value = os.path.expanduser(str(value))
            if _lib.tether_options_set(o, name.encode(), _value(value)) != 0:
                raise TypeError("%s() got an unexpected keyword argument "
                                "'%s'" % (caller, name))
        r = getattr(_lib, "tether_" + function)(o)
    finally:
        _lib.tether_options_free(o)
    if not r:
        raise MemoryError("tether_" + function)
    try:
        result = {
            "success": bool(_lib.tether_result_success(r)),
            "stdout": _lib.tether_result_stdout(r).decode(errors="replace"),
            "stderr": _lib.tether_result_stderr(r).decode(errors="replace"),
            "exit_code": _lib.tether_result_exit_code(r),
        }
        doc = _lib.tether_result_json(r)
        if doc is not None:
            result["tunnels"] = json.loads(doc.decode()).get("tunnels", [])
    finally:
        _lib.tether_result_free(r)
    return result


def setup(port, bastion=None, key=None, **options):
    """Set up a tunnel on the bastion's PORT, start it, wait for it."""
    return _call("setup", "setup",
                 dict(options, port=port, bastion=bastion, key=key))


def status(port=None, **options):
    """Every tunnel on this machine, or the one on PORT."""
    return _call("status", "status", dict(options, port=port))


def remove(port, **options):
    """Stop the tunnel on PORT and delete what setup wrote for it."""
    return _call("remove", "remove", dict(options, port=port))
