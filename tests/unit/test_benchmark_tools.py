"""The benchmark's own arithmetic (it never runs in tests): p95, efficiency ratios, reference kernels."""
import torch

from lessons.landscapes.compute import filter_normalized_direction
from tests.benchmark.__main__ import figure_rows, p95


def test_p95_picks_the_value_below_which_95_percent_lie():
    assert p95(list(range(1, 101))) == 95
    assert p95([3.0]) == 3.0


def test_filter_normalized_direction_matches_each_filter_norm_and_skips_biases():
    params = {"conv.weight": torch.randn(4, 3, 3, 3) * torch.arange(1, 5).view(4, 1, 1, 1),
              "conv.bias": torch.randn(4)}
    d = filter_normalized_direction(params, seed=0)
    torch.testing.assert_close(d["conv.weight"].flatten(1).norm(dim=1), params["conv.weight"].flatten(1).norm(dim=1))
    assert torch.equal(d["conv.bias"], torch.zeros(4))
    assert not torch.allclose(d["conv.weight"], filter_normalized_direction(params, seed=1)["conv.weight"])


def test_flop_and_time_figures_become_an_efficiency_ratio():
    rows = figure_rows([{"name": "step flops", "value": 2e9, "unit": "flop"},
                        {"name": "step seconds", "value": 0.5, "unit": "s"}], "kernel", peak_gflops=8.0)
    assert [r.name for r in rows] == ["kernel: step seconds", "kernel: step achieved GFLOP/s / matmul peak"]
    assert rows[1].value == 0.5  # 2 GFLOP in 0.5 s = 4 GFLOP/s, half of 8


def test_a_quoted_peer_is_compared_with_the_figure_it_was_measured_as():
    from tests.benchmark.report import Row, with_peer

    # ours without the CUDA-only libraries is below the peer's RSS, but our full RSS is not: "NOT less"
    row = with_peer(Row("/activations server memory, one student", 700.0, "MB", 850, like_for_like=900.0))
    assert "TorchCam demo after the same work: 863 MB" in row.note and "ours (RSS 900 MB) NOT less" in row.note
    assert "ours less" in with_peer(Row("/activations server memory", 700.0, "MB", 850)).note


def test_cuda_build_only_libraries_are_the_cuda_and_triton_files_not_torch_cpu():
    from tests.benchmark.browser import CUDA_BUILD_ONLY

    only = ["/sp/nvidia/cudnn/lib/libcudnn_ops.so.9", "/sp/torch/lib/libtorch_cuda.so", "/sp/torch/lib/libc10_cuda.so",
            "/sp/triton/_C/libtriton.so", "/sp/nvidia/cublas/lib/libcublasLt.so.12"]
    shared = ["/sp/torch/lib/libtorch_cpu.so", "/sp/torch/lib/libc10.so", "/sp/numpy.libs/libopenblas.so", "[heap]"]
    assert all(CUDA_BUILD_ONLY.search(path) for path in only)
    assert not any(CUDA_BUILD_ONLY.search(path) for path in shared)
