"""The zoo shares one model per process and hands it back unchanged."""
import threading

import pytest
import torch

from models import zoo


def _state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("name", ["digits_cnn", "efficientnet_lite0"])
def test_load_returns_one_frozen_eval_instance_with_metadata(name):
    model, meta = zoo.load(name)
    again, _ = zoo.load(name)
    assert model is again
    assert not model.training
    assert not any(p.requires_grad for p in model.parameters())
    assert meta.target_layers, "lessons need suggested target layers"
    for path in meta.target_layers.values():
        model.get_submodule(path)  # raises if the path is wrong
    assert len(meta.labels) in (10, 1000)


def test_borrow_removes_hooks_and_restores_modes_and_weights():
    model, meta = zoo.load("digits_cnn")
    before, hooks_before = _state(model), zoo.count_hooks(model)
    layer = model.get_submodule(list(meta.target_layers.values())[-1])
    with zoo.borrow("digits_cnn") as borrowed:
        assert borrowed is model
        layer.register_forward_hook(lambda m, i, o: None)
        layer.register_full_backward_hook(lambda m, gi, go: None)
        borrowed.train()
        borrowed.requires_grad_(True)
        x = torch.randn(2, 1, 28, 28)
        borrowed(x).sum().backward()
        assert zoo.count_hooks(borrowed) == hooks_before + 2
    assert zoo.count_hooks(model) == hooks_before
    assert not model.training and not any(p.requires_grad or p.grad is not None for p in model.parameters())
    after = _state(model)
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_borrow_is_exclusive_between_threads():
    order = []

    def worker(tag):
        with zoo.borrow("digits_cnn"):
            order.append(f"{tag} in")
            threading.Event().wait(0.05)
            order.append(f"{tag} out")

    threads = [threading.Thread(target=worker, args=(t,)) for t in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert order[0][0] == order[1][0] and order[2][0] == order[3][0]  # no interleaving


def test_unknown_model_name_is_a_clear_error():
    with pytest.raises(KeyError, match="unknown model"):
        zoo.info("resnet9000")


def test_the_catalogue_describes_every_model_without_importing_torch():
    import subprocess
    import sys

    code = ("import sys; from models import catalogue; "
            "infos = [catalogue.info(n) for n in catalogue.NAMES]; print('torch' in sys.modules, len(infos))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]))
    assert out.stdout.split() == ["False", str(len(zoo.NAMES))]


def test_catalogue_labels_match_each_classifier_output():
    for name in ("digits_cnn", "efficientnet_lite0"):
        model, meta = zoo.load(name)
        x = torch.zeros(1, *meta.input_size)  # (1, C, H, W)
        assert model(x).shape == (1, len(meta.labels)), name
        for path in meta.target_layers.values():
            model.get_submodule(path)  # every inspectable layer exists
