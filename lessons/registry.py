"""The course outline: every lesson, the phase of a model's life where it helps, and its page.

The router (streamlit_app.py), the home page's course map, the tests and the benchmark all read
this file. A lesson appears in the navigation once `ready` is True; until then the course map
lists it as "in preparation". Importing this module is cheap: pages are imported on first visit.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field

PHASES = {
    "before": "Before training",
    "during": "During training",
    "after": "After training",
    "inference": "At inference",
}


@dataclass(frozen=True)
class Lesson:
    slug: str  # package name under lessons/ and URL path
    title: str
    icon: str
    phases: tuple[str, ...]  # keys of PHASES; the first is where the navigation lists it
    summary: str  # one line: what the student will see
    model_kinds: tuple[str, ...]  # "cnn", "transformer", "mlp"
    goals: tuple[str, ...] = field(default=())  # keys of GOALS
    ready: bool = False
    # What the lesson's pages need that is slow the first time in a process: imports, shared models,
    # one-off functions ("module:function"), in order, shared base packages first (lessons/warmup.py).
    # Opening the lesson warms these in the background; no other lesson waits for them.
    warm: tuple[str, ...] = field(default=())
    # True when the page's first render needs none of `warm` (it draws shipped results): the page
    # then calls `LessonPage.go_live()` before its first live computation instead of waiting here.
    light_first_render: bool = False

    @property
    def page_module(self) -> str:
        return f"lessons.{self.slug}.page"

    def render(self) -> None:
        """Draw the page with its warm-up: a light page first draws, then starts warming; any other
        page starts warming and waits for its own steps (never another lesson's) before drawing."""
        from lessons import course_path, warmup

        course_path.mark_opened(self.slug)
        if self.light_first_render:  # draw first, then warm: the imports do not slow this first run
            importlib.import_module(self.page_module).render()
            warmup.start(self.slug)
            return
        warmup.start(self.slug)
        warmup.wait(self.slug)
        importlib.import_module(self.page_module).render()


COURSE: tuple[Lesson, ...] = (
    Lesson("architecture", "Model architecture", ":material/account_tree:", ("before",),
           "Layer diagrams, the autograd graph, a parameter table and a model builder with live shapes.",
           ("cnn", "transformer", "mlp"), ("architecture",), ready=True,
           warm=("numpy", "pandas", "altair", "torch", "torchvision", "models.zoo", "model:digits_cnn",
                 "torchview", "torchviz", "data", "lessons.architecture.charts", "lessons.architecture.neurons",
                 "lessons.architecture.graphs:warm_up"),
           light_first_render=True),
    Lesson("training", "Training curves", ":material/show_chart:", ("during",),
           "Train a real model in the page and read its loss and accuracy curves as they grow.",
           ("cnn", "mlp"), ("debug",), ready=True,
           warm=("numpy", "pandas", "altair", "torch", "sklearn.metrics", "lessons.training.compute:warm_up"),
           light_first_render=True),
    Lesson("gradients", "Gradient plots", ":material/stacked_line_chart:", ("during",),
           "Per-layer gradient norms and histograms: vanishing and exploding gradients made visible.",
           ("cnn", "mlp"), ("debug",), ready=True,
           warm=("numpy", "pandas", "altair", "torch", "lessons.gradients.compute:warm_up"),
           light_first_render=True),
    Lesson("landscapes", "Loss landscapes", ":material/landscape:", ("during",),
           "Slices of the loss surface around a trained model, along random filter-normalised directions.",
           ("cnn", "mlp"), ("debug", "compare"), ready=True,
           warm=("numpy", "pandas", "altair", "plotly", "torch", "models.zoo", "model:digits_mlp",
                 "lessons.landscapes.compute:warm_up"),
           light_first_render=True),
    Lesson("activations", "Activation heatmaps", ":material/local_fire_department:", ("after", "inference"),
           "Class activation maps on photos and digits, and a model caught looking at the wrong thing.",
           ("cnn",), ("looks_at",), ready=True,
           warm=("numpy", "pandas", "altair", "torch", "torchvision", "models.zoo", "model:efficientnet_lite0",
                 "model:digits_cnn", "model:shortcut_cnn", "sklearn", "scipy.stats", "matplotlib", "cv2",
                 "pytorch_grad_cam", "torchcam.methods", "torchcam.utils", "lessons.activations.compute",
                 "lessons.activations.torchcam_compare", "lessons.activations.views_checks"),
           light_first_render=True),
    Lesson("features", "Feature visualization", ":material/palette:", ("after",),
           "Images optimised to excite one channel: what a unit of the network responds to.",
           ("cnn",), ("looks_at", "compare"), ready=True,
           warm=("numpy", "pandas", "altair", "torch", "models.zoo", "model:efficientnet_lite0", "model:digits_cnn",
                 "lessons.features.optimize:warm_up"),
           light_first_render=True),
    Lesson("factorization", "Deep feature factorization", ":material/category:", ("after",),
           "Non-negative matrix factorisation of activations splits an image into the concepts the model sees.",
           ("cnn",), ("looks_at",), ready=True,
           warm=("numpy", "pandas", "altair", "cv2", "torch", "torchvision", "models.zoo", "model:efficientnet_lite0",
                 "sklearn", "matplotlib", "pytorch_grad_cam", "lessons.factorization.compute:warm_up"),
           light_first_render=True),
    Lesson("attention", "Attention", ":material/visibility:", ("after", "inference"),
           "Head and model views of a real sentence encoder, rollout on a digits ViT, and a toy model whose right attention is known.",
           ("transformer",), ("looks_at", "architecture"), ready=True,
           warm=("numpy", "pandas", "altair", "plotly", "torch", "tokenizers", "models.zoo", "model:minilm",
                 "model:digits_vit", "lessons.attention.compute:warm_up"),
           light_first_render=True),
    Lesson("embeddings", "Embeddings", ":material/scatter_plot:", ("after", "inference"),
           "Hidden representations projected with PCA, t-SNE and UMAP, with how far to trust each picture.",
           ("transformer", "cnn", "mlp"), ("compare",), ready=True,
           # MiniLM and EfficientNet-Lite0 are not warmed: the words, sentences and photos are shipped, and
           # only typed items or uploads load them (lessons/embeddings/points.py), which spares a student of
           # the digits their ~110 MB
           warm=("numpy", "pandas", "altair", "plotly", "torch", "models.zoo", "data", "model:digits_cnn",
                 "sklearn.decomposition", "sklearn.manifold", "openTSNE",
                 "lessons.embeddings.projection:umap_library", "lessons.embeddings.compute:warm_up"),
           light_first_render=True),
)

# The order in which a student working alone should take the lessons.
RECOMMENDED_ORDER = ("architecture", "training", "gradients", "landscapes", "activations",
                     "features", "factorization", "attention", "embeddings")

GOALS = {
    "architecture": "Understand the architecture",
    "debug": "Debug a training run that does not learn",
    "looks_at": "Check what the model looks at",
    "compare": "Compare representations",
}

MODEL_KINDS = {"cnn": "CNN (images)", "transformer": "Transformer (text or image patches)", "mlp": "MLP (tabular or flat input)"}

LESSONS: tuple[Lesson, ...] = tuple(lesson for lesson in COURSE if lesson.ready)


def get(slug: str) -> Lesson:
    for lesson in COURSE:
        if lesson.slug == slug:
            return lesson
    raise KeyError(f"no lesson {slug!r}")


def recommend(goal: str, model_kind: str) -> list[Lesson]:
    """The lessons to open, in course order, for a goal and a kind of model."""
    order = {slug: i for i, slug in enumerate(RECOMMENDED_ORDER)}
    chosen = [lesson for lesson in COURSE if goal in lesson.goals and model_kind in lesson.model_kinds]
    return sorted(chosen, key=lambda lesson: order[lesson.slug])
