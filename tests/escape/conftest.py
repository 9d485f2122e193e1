"""The escape tests drive the real kernel as tests/protocol does, with its
fixtures and helpers."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from protocol.conftest import kernel, kc, shared_kernel  # noqa: E402,F401
