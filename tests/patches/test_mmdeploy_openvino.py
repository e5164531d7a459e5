"""mmdeploy's OpenVINO backend on the current OpenVINO API: a small network exported to ONNX, converted
to OpenVINO IR by mmdeploy's converter, and run by mmdeploy's wrapper, matches PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("openvino", reason="openvino is not installed (requirements/stack.txt)")


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, image):
        features = self.conv(image)
        return features.relu(), features.mean(dim=(2, 3))


@pytest.fixture
def onnx_model(tmp_path):
    torch.manual_seed(0)
    net = Net().eval()
    path = tmp_path / "end2end.onnx"
    torch.onnx.export(net, (torch.randn(1, 3, 8, 8),), str(path), input_names=["image"],
                      output_names=["relu", "mean"], dynamic_axes={"image": {2: "h", 3: "w"}},
                      opset_version=11, dynamo=False)  # fmt: skip
    return net, path


def _convert(onnx_path, out):
    from mmdeploy.backend.openvino.onnx2openvino import from_onnx

    from_onnx(str(onnx_path), str(out), {"image": [1, 3, -1, -1]}, ["relu", "mean"])
    return out / "end2end.xml"


def test_converter_writes_float32_ir_with_dynamic_dimensions(onnx_model, tmp_path):
    """patches/mmdeploy/backend-openvino-convert-onnx-with-openvino-convert-model.patch"""
    import openvino

    _, onnx_path = onnx_model
    xml = _convert(onnx_path, tmp_path / "ir")
    assert xml.exists() and xml.with_suffix(".bin").exists()
    model = openvino.Core().read_model(str(xml))
    assert [o.get_any_name() for o in model.outputs] == ["relu", "mean"]
    assert str(model.input("image").get_partial_shape()) == "[1,3,?,?]"
    weights = [op for op in model.get_ops() if op.get_type_name() == "Constant" and op.get_output_size()]
    assert not any(op.get_output_element_type(0) == openvino.Type.f16 for op in weights)  # not compressed


def test_wrapper_runs_the_ir_at_two_sizes_like_pytorch(onnx_model, tmp_path):
    """patches/mmdeploy/backend-openvino-run-models-with-openvino-core.patch"""
    from mmdeploy.backend.openvino.wrapper import OpenVINOWrapper

    net, onnx_path = onnx_model
    wrapper = OpenVINOWrapper(str(_convert(onnx_path, tmp_path / "ir")))
    assert wrapper.output_names == ["relu", "mean"]
    for size in (8, 16):
        image = torch.randn(1, 3, size, size)
        out = wrapper({"image": image})
        with torch.no_grad():
            ref = net(image)
        for name, expected in zip(("relu", "mean"), ref, strict=True):
            assert out[name].shape == expected.shape
            np.testing.assert_allclose(out[name].numpy(), expected.numpy(), atol=1e-5)
