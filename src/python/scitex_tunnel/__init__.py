# SPDX-License-Identifier: AGPL-3.0-or-later
"""scitex-tunnel's Python API, kept by tether: the seed's lines run as
they were written::

    import scitex_tunnel
    result = scitex_tunnel.setup(2222, "user@bastion.example.com", "~/.ssh/id_rsa")
    result = scitex_tunnel.status()
    result = scitex_tunnel.status(port=2222)
    result = scitex_tunnel.remove(2222)

Each result is a dict with ``success``, ``stdout`` and ``stderr`` as the
seed returned, plus tether's ``exit_code`` (and ``tunnels`` for status).
Pass ``user=True`` to manage your own tunnels without root.
"""
from tether import __version__, remove, setup, status

__all__ = ["setup", "status", "remove", "__version__"]
