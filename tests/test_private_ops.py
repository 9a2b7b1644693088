"""What the engine relies on in torch's private operators (engine/private_ops.py), stated.

An underscore means torch promises nothing: these tests fail first if a release changes a
signature or a result, and a source scan keeps every such call in that one module.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
import torch.nn.functional as F

from nnvisu.engine import private_ops

SRC = Path(__file__).resolve().parents[1] / "src" / "nnvisu"
#: A private torch operator: torch._x or torch.ops.aten._x (not torch._C, torch's own internals).
PRIVATE = re.compile(r"torch\.(?:ops\.aten\._\w+|_(?!C\b|_)\w+)")


def test_every_private_torch_call_is_in_private_ops() -> None:
    found = {
        str(path.relative_to(SRC)): sorted(set(PRIVATE.findall(path.read_text(encoding="utf-8"))))
        for path in SRC.rglob("*.py")
    }
    elsewhere = {name: calls for name, calls in found.items()
                 if calls and name != "engine/private_ops.py"}  # fmt: skip
    assert elsewhere == {}
    assert found["engine/private_ops.py"] == [
        "torch._foreach_copy_",
        "torch.ops.aten._log_softmax_backward_data",
    ]


def test_the_signatures_relied_on() -> None:
    assert str(torch.ops.aten._log_softmax_backward_data.default._schema) == (
        "aten::_log_softmax_backward_data(Tensor grad_output, Tensor output, int dim, "
        "ScalarType input_dtype) -> Tensor"
    )
    assert str(torch.ops.aten._foreach_copy_.default._schema) == (
        "aten::_foreach_copy_(Tensor(a!)[] self, Tensor[] src, bool non_blocking=False) -> ()"
    )


def test_log_softmax_backward_is_autograds_gradient_bit_for_bit() -> None:
    gen = torch.Generator().manual_seed(0)
    for rows, classes in ((1, 2), (7, 3), (64, 8)):
        logits = (torch.randn(rows, classes, generator=gen) * 4).requires_grad_()
        grad = torch.randn(rows, classes, generator=gen)
        log_p = F.log_softmax(logits, 1)
        log_p.backward(grad)
        assert torch.equal(private_ops.log_softmax_backward(grad, log_p.detach()), logits.grad)


def test_copy_all_is_copy_into_each_view_of_a_flat_vector() -> None:
    flat = torch.zeros(20)
    targets = [flat[:6].view(2, 3), flat[6:10], flat[10:20].view(5, 2)]
    sources = [torch.arange(6.0).view(2, 3), torch.full((4,), -1.5), torch.ones(5, 2) / 3]
    expected = torch.cat([s.reshape(-1) for s in sources])
    private_ops.copy_all(targets, sources)
    assert torch.equal(flat, expected)  # written through the views, in place
    assert targets[0].data_ptr() == flat.data_ptr()
