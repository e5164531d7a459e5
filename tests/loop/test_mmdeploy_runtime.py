"""mmdeploy on current torch and setuptools (the mmdeploy patches that need no model).

patches/mmdeploy/backend-use-importlib-metadata-instead-of-pkg-resources.patch
patches/mmdeploy/drop-the-protobuf-3-20-2-pin.patch
patches/mmdeploy/core-rewriters-handle-torch-fx-s-dict-of-wrapped-functions.patch
"""

from __future__ import annotations

import importlib.metadata
import types


def test_backend_managers_report_versions_without_pkg_resources():
    from mmdeploy.backend.onnxruntime.backend_manager import ONNXRuntimeManager
    from mmdeploy.backend.torchscript.backend_manager import TorchScriptManager

    assert ONNXRuntimeManager.get_version() == importlib.metadata.version("onnxruntime")
    assert TorchScriptManager.get_version() == importlib.metadata.version("torch")
    lines = []
    ONNXRuntimeManager.check_env(lines.append)
    assert any(importlib.metadata.version("onnxruntime") in line for line in lines)


def test_mmdeploy_requires_no_old_protobuf():
    requires = importlib.metadata.requires("mmdeploy")
    assert "protobuf" in requires and not any(r.startswith("protobuf<") for r in requires)


def test_rewriter_copies_of_fx_wrapped_functions_stay_wrapped():
    """Guards the dict layout of torch.fx's _wrapped_fns_to_patch."""
    from mmdeploy.core.rewriters.function_rewriter import _fx_wrap_copied_fn
    from mmdeploy.core.rewriters.rewriter_utils import copy_function
    from torch.fx._symbolic_trace import _wrapped_fns_to_patch

    module = types.ModuleType("fx_wrap_demo")
    exec("import torch.fx\ndef leaf(x):\n    return x + 1\ntorch.fx.wrap('leaf')\n", module.__dict__)
    copied = copy_function(module.leaf)
    assert copied.__globals__ is not module.__dict__
    _fx_wrap_copied_fn(module.leaf, copied)
    assert _wrapped_fns_to_patch[(id(copied.__globals__), "leaf")] is copied.__globals__
