"""The class-activation-map methods the lesson offers: name, paper, and whether each uses gradients, is
slow (one forward pass per channel) or class-specific. No torch here: the page's controls list the methods
before torch is imported; compute.py runs them (and re-exports these names)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Method:
    name: str
    paper: str
    url: str
    uses_gradients: bool
    slow: bool = False  # one forward pass per channel: show progress
    class_specific: bool = True  # False: the map does not depend on the target class


METHODS: dict[str, Method] = {m.name: m for m in [
    Method("GradCAM", "Selvaraju et al., Grad-CAM, ICCV 2017", "https://arxiv.org/abs/1610.02391", True),
    Method("HiResCAM", "Draelos & Carin, HiResCAM, 2020", "https://arxiv.org/abs/2011.08891", True),
    Method("GradCAM++", "Chattopadhyay et al., Grad-CAM++, WACV 2018", "https://arxiv.org/abs/1710.11063", True),
    Method("XGradCAM", "Fu et al., Axiom-based Grad-CAM, BMVC 2020", "https://arxiv.org/abs/2008.02312", True),
    Method("LayerCAM", "Jiang et al., LayerCAM, IEEE TIP 2021", "https://doi.org/10.1109/TIP.2021.3089943", True),
    Method("EigenCAM", "Muhammad & Yeasin, Eigen-CAM, IJCNN 2020", "https://arxiv.org/abs/2008.00299", False,
           class_specific=False),
    Method("EigenGradCAM", "EigenCAM on gradient x activation (pytorch-grad-cam)",
           "https://github.com/jacobgil/pytorch-grad-cam", True),
    Method("ScoreCAM", "Wang et al., Score-CAM, CVPR Workshops 2020", "https://arxiv.org/abs/1910.01279", False,
           slow=True),
    Method("AblationCAM", "Desai & Ramaswamy, Ablation-CAM, WACV 2020",
           "https://openaccess.thecvf.com/content_WACV_2020/html/Desai_Ablation-CAM_Visual_Explanations_for_Deep_Convolutional_Network_via_Gradient-free_Localization_WACV_2020_paper.html",
           False, slow=True),
    Method("FullGrad", "Srinivas & Fleuret, Full-Gradient Representation, NeurIPS 2019",
           "https://arxiv.org/abs/1905.00780", True),
]}
FAST_METHODS = tuple(name for name, m in METHODS.items() if not m.slow)
