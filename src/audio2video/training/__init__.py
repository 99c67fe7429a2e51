"""Training: config, the loop (trainer), checkpoints, processes, losses, schedule, validation, logging, signals."""
from .config import ConfigError, TrainConfig, load_config, save_config
from .signals import TrainingStopped
from .trainer import TrainingError, train

__all__ = ["ConfigError", "TrainConfig", "TrainingError", "TrainingStopped", "load_config", "save_config", "train"]
