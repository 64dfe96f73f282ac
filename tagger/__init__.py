"""BERT sequence tagging: read labeled data, fine-tune, evaluate, predict. No UI in here."""

from .config import TrainConfig
from .data import DataError, read_file
from .model import load_tagger, save_tagger
from .predict import Entity, Prediction, Predictor, Word

__all__ = ["DataError", "Entity", "Prediction", "Predictor", "TrainConfig", "Word", "load_tagger", "read_file", "save_tagger"]
