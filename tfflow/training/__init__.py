"""Training runs for `tfflow`: settings, run directories, Keras callbacks and the trainer.

`train(TrainConfig(...))` is what `tfflow train` runs: it loads the data, builds the model
(`build_model`), trains it with the standard callbacks (`make_callbacks`: resumable
checkpoints, `metrics.csv`, TensorBoard, a sample picture per epoch, the training curve and a
one-line summary per epoch) and leaves `model.keras`, `evaluation.json` and an exported
SavedModel in the run directory (`RunDir`). `load_trained_run` reads a finished run back.
"""

from tfflow.training.builders import MODEL_DEFAULTS, build_model, model_input_shape, resolve_config
from tfflow.training.callbacks import make_callbacks
from tfflow.training.config import MIXED_PRECISION_POLICIES, MODEL_NAMES, STRATEGIES, TrainConfig
from tfflow.training.curve_callback import TrainingCurveCallback
from tfflow.training.datasets import (
    check_dataset_name,
    evaluation_pipeline,
    load_run_data,
    training_pipeline,
)
from tfflow.training.disk_space import check_free_space, checkpoint_bytes, required_free_bytes
from tfflow.training.errors import RunConfigurationError
from tfflow.training.evaluation import evaluate_bits_per_dim
from tfflow.training.loading import TrainedRun, load_trained_run
from tfflow.training.plots import (
    density_on_grid,
    figure_to_array,
    plot_toy_2d,
    plot_toy_2d_table,
    plot_training_curve,
)
from tfflow.training.progress import echo, timed_step
from tfflow.training.run_dir import RunDir, default_run_dir
from tfflow.training.sample_callback import SampleGridCallback
from tfflow.training.sampling import render_samples, write_png
from tfflow.training.strategy import default_jit, make_strategy, mixed_precision_policy
from tfflow.training.summary_callback import EpochSummaryCallback
from tfflow.training.trainer import TrainResult, dataset_record, train
from tfflow.training.workers import WorkerRole

__all__ = [
    "MIXED_PRECISION_POLICIES",
    "MODEL_DEFAULTS",
    "MODEL_NAMES",
    "STRATEGIES",
    "EpochSummaryCallback",
    "RunConfigurationError",
    "RunDir",
    "SampleGridCallback",
    "TrainConfig",
    "TrainResult",
    "TrainedRun",
    "TrainingCurveCallback",
    "WorkerRole",
    "build_model",
    "check_dataset_name",
    "check_free_space",
    "checkpoint_bytes",
    "dataset_record",
    "default_jit",
    "default_run_dir",
    "density_on_grid",
    "echo",
    "evaluate_bits_per_dim",
    "evaluation_pipeline",
    "figure_to_array",
    "load_run_data",
    "load_trained_run",
    "make_callbacks",
    "make_strategy",
    "mixed_precision_policy",
    "model_input_shape",
    "plot_toy_2d",
    "plot_toy_2d_table",
    "plot_training_curve",
    "render_samples",
    "required_free_bytes",
    "resolve_config",
    "timed_step",
    "train",
    "training_pipeline",
    "write_png",
]
