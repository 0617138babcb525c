"""Global neural forecasters in PyTorch: DeepAR and CNN-QR, over shared windows and training."""

from tidecast.models.neural.cnnqr import CNNQR
from tidecast.models.neural.deepar import DeepAR

__all__ = ["CNNQR", "DeepAR"]
