"""Every output the guide states in the topics of lessons 1-8, reproduced in the sandbox —
or, where the guide is wrong, what really happens (the lessons' guide_check sections).

Each test runs the guide's own snippet; the names say which statement it checks."""

from __future__ import annotations

from typing import Any

import torch

from app.engine.program import Sandbox


def ok(sandbox: Sandbox, code: str, seed: int = 0) -> dict[str, Any]:
    body = sandbox.run(code, seed, "cpu").body
    assert body["ok"], body.get("error")
    return body


def error_type(sandbox: Sandbox, code: str) -> str:
    body = sandbox.run(code, 0, "cpu").body
    assert not body["ok"]
    return body["error"]["type"]


def result(sandbox: Sandbox, code: str) -> dict[str, Any]:
    return ok(sandbox, code)["result"]


# --- lesson 1: installing and checking ----------------------------------------------------

def test_version_lines_print_this_servers_torch(sandbox: Sandbox) -> None:
    out = ok(sandbox, "print(torch.__version__)\nprint(torch.version.cuda)\n"
                      "print(torch.cuda.is_available())")["stdout"]
    assert out == f"{torch.__version__}\n{torch.version.cuda}\n{torch.cuda.is_available()}\n"


# --- lesson 2: torch.Tensor(2,3,4) vs torch.Tensor([2,3,4]) -------------------------------

def test_tensor_2_3_4_size_is_torch_size_2_3_4(sandbox: Sandbox) -> None:
    assert result(sandbox, "torch.Tensor(2,3,4).size()") == {"kind": "shape",
                                                              "value": [2, 3, 4]}


def test_tensor_of_list_2_3_4_size_is_torch_size_3(sandbox: Sandbox) -> None:
    assert result(sandbox, "torch.Tensor([2,3,4]).size()") == {"kind": "shape", "value": [3]}
    view = result(sandbox, "torch.Tensor([2,3,4])")
    assert view["values"] == [2.0, 3.0, 4.0] and view["dtype"] == "float32"


def test_torch_tensor_with_dtype_and_torch_Tensor_without(sandbox: Sandbox) -> None:
    view = result(sandbox, "torch.tensor([1, 2, 3], dtype=torch.float32)")
    assert view["dtype"] == "float32"
    assert error_type(sandbox, "torch.Tensor([1, 2, 3], dtype=torch.float32)") == "TypeError"


# --- lesson 3: torch.mm vs torch.mul -------------------------------------------------------

def test_mm_of_the_guides_a_and_b_is_14_32_32_77(sandbox: Sandbox) -> None:
    view = result(sandbox, "A = torch.tensor([[1, 2, 3], [4, 5, 6]])\n"
                           "B = torch.tensor([[1, 4], [2, 5], [3, 6]])\nC = torch.mm(A, B)\nC")
    assert view["repr"] == "tensor([[14, 32],\n        [32, 77]])"


def test_mul_of_the_guides_a_and_b_is_5_12_21_32(sandbox: Sandbox) -> None:
    view = result(sandbox, "A = torch.tensor([[1, 2], [3, 4]])\n"
                           "B = torch.tensor([[5, 6], [7, 8]])\nC = torch.mul(A, B)\nC")
    assert view["repr"] == "tensor([[ 5, 12],\n        [21, 32]])"


def test_mul_broadcasts_although_the_guide_says_same_shape(sandbox: Sandbox) -> None:
    view = result(sandbox, "torch.mul(torch.ones(2, 3), torch.tensor([1., 2., 3.]))")
    assert view["shape"] == [2, 3] and view["values"][1] == [1.0, 2.0, 3.0]


# --- lesson 4: add vs add_ ------------------------------------------------------------------

def test_add_keeps_and_add_inplace_changes_the_original(sandbox: Sandbox) -> None:
    kept = ok(sandbox, "t = torch.tensor([1., 2.])\nu = t.add(1)")["variables"]
    assert kept["t"]["values"] == [1.0, 2.0] and kept["t"]["storage"]["version"] == 0
    changed = ok(sandbox, "t = torch.tensor([1., 2.])\nu = t.add_(1)")["variables"]
    assert changed["t"]["values"] == [2.0, 3.0] and changed["t"]["storage"]["version"] == 1
    assert changed["u"]["storage"]["id"] == changed["t"]["storage"]["id"]


# --- lesson 5: stack vs cat -----------------------------------------------------------------

STACK = "A = torch.tensor([[1, 2], [3, 4]])\nB = torch.tensor([[5, 6], [7, 8]])\n"


def test_stack_dim0_shape_and_values(sandbox: Sandbox) -> None:
    body = ok(sandbox, STACK + "C = torch.stack((A, B), dim=0)\nprint(C.shape)\nC")
    assert body["stdout"] == "torch.Size([2, 2, 2])\n"
    assert body["result"]["repr"] == ("tensor([[[1, 2],\n         [3, 4]],\n\n"
                                      "        [[5, 6],\n         [7, 8]]])")


def test_stack_dim1_shape_and_values(sandbox: Sandbox) -> None:
    body = ok(sandbox, STACK + "D = torch.stack((A, B), dim=1)\nprint(D.shape)\nD")
    assert body["stdout"] == "torch.Size([2, 2, 2])\n"
    assert body["result"]["repr"] == ("tensor([[[1, 2],\n         [5, 6]],\n\n"
                                      "        [[3, 4],\n         [7, 8]]])")


def test_cat_dim0_is_4_3_and_dim1_is_2_6(sandbox: Sandbox) -> None:
    body = ok(sandbox, "A = torch.randn(2, 3)\nB = torch.randn(2, 3)\n"
                       "print(torch.cat((A, B), dim=0).shape)\n"
                       "print(torch.cat((A, B), dim=1).shape)")
    assert body["stdout"] == "torch.Size([4, 3])\ntorch.Size([2, 6])\n"


def test_the_typical_uses_have_the_guides_shapes(sandbox: Sandbox) -> None:
    view = result(sandbox,
                  "b = torch.stack((torch.randn(3, 224, 224), torch.randn(3, 224, 224)), dim=0)\n"
                  "s = torch.stack((torch.randn(256), torch.randn(256)), dim=0)\n"
                  "c = torch.cat((torch.randn(10, 512), torch.randn(10, 256)), dim=1)\n"
                  "m = torch.cat((torch.randn(32, 64, 64), torch.randn(32, 64, 64)), dim=0)\n"
                  "[b.shape, s.shape, c.shape, m.shape]")
    assert [item["value"] for item in view["items"]] == [
        [2, 3, 224, 224], [2, 256], [10, 768], [64, 64, 64]]


def test_stack_of_2x3_and_3x2_is_a_runtime_error(sandbox: Sandbox) -> None:
    assert error_type(sandbox, "A = torch.rand(2,3)\nB = torch.rand(3,2)\n"
                               "torch.stack((A, B))") == "RuntimeError"


def test_stack_dim2_of_2d_inputs_works_although_the_guide_says_index_error(
        sandbox: Sandbox) -> None:
    view = result(sandbox, "A = torch.rand(2,3)\nB = torch.rand(2,3)\n"
                           "torch.stack((A, B), dim=2)")
    assert view["shape"] == [2, 3, 2]
    assert error_type(sandbox, "torch.stack((torch.rand(2,3), torch.rand(2,3)), dim=3)") \
        == "IndexError"


def test_stack_and_cat_allocate_the_same_memory(sandbox: Sandbox) -> None:
    view = result(sandbox, "A = torch.randn(256, 256)\nB = torch.randn(256, 256)\n"
                           "[torch.stack((A, B)).nbytes, torch.cat((A, B)).nbytes]")
    assert [item["value"] for item in view["items"]] == [524288, 524288]


# --- lesson 6: epochs and iterations --------------------------------------------------------

def test_image_num_is_not_iterations_times_batch_size(sandbox: Sandbox) -> None:
    view = result(sandbox, "loader = DataLoader(TensorDataset(torch.arange(10)), "
                           "batch_size=3)\n[len(loader), len(loader) * 3]")
    assert [item["value"] for item in view["items"]] == [4, 12]  # 12 != 10 images


# --- lesson 7: the data type table ----------------------------------------------------------

def test_every_row_of_the_type_table_has_its_dtype(sandbox: Sandbox) -> None:
    table = {"ByteTensor": "uint8", "CharTensor": "int8", "ShortTensor": "int16",
             "IntTensor": "int32", "LongTensor": "int64", "FloatTensor": "float32",
             "DoubleTensor": "float64", "BoolTensor": "bool"}
    for name, dtype in table.items():
        body = ok(sandbox, f"t = torch.{name}([1])\nprint(t.type())\nt.dtype")
        assert body["result"] == {"kind": "dtype", "value": dtype}
        assert body["stdout"] == f"torch.{name}\n"


# --- lesson 8: creating tensors -------------------------------------------------------------

def test_randint_default_dtype_is_int64(sandbox: Sandbox) -> None:
    assert result(sandbox, "torch.randint(0, 10, [2,3]).dtype") == {"kind": "dtype",
                                                                    "value": "int64"}


def test_randn_and_randint_with_dtype_and_device(sandbox: Sandbox) -> None:
    view = result(sandbox, "torch.randn([2,3], dtype=torch.float64, device='cuda')")
    assert view["shape"] == [2, 3] and view["dtype"] == "float64"
    view = result(sandbox, "torch.randint(0, 10, [2,3], dtype=torch.int8, device='cuda')")
    assert view["dtype"] == "int8"
    assert all(0 <= v < 10 for row in view["values"] for v in row)


def test_numpy_to_float32_tensor_keeps_the_values(sandbox: Sandbox) -> None:
    view = result(sandbox, "a = np.random.randn(2,3)\n"
                           "t = torch.tensor(a, dtype=torch.float32)\n"
                           "[a, t]")
    array, tensor = view["items"]
    assert tensor["dtype"] == "float32" and array["dtype"] == "float64"
    for row_a, row_t in zip(array["values"], tensor["values"], strict=True):
        # float32 values are sent as the shortest text of each float32 (docs/API.md): read
        # back as float32, each is the float64 value rounded to float32.
        assert torch.equal(torch.tensor(row_t, dtype=torch.float32),
                           torch.tensor(row_a, dtype=torch.float64).float())
