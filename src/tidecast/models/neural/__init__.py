"""Global neural forecasters in PyTorch: DeepAR and CNN-QR, over shared windows and training.

Importing this package does not import torch (the model catalog imports it on every run):
the forecasters and their features are torch-free, and the torch side (`windows`,
`training`, `nets`) is imported on the first fit or predict.
"""

from tidecast.models.neural.cnnqr import CNNQR
from tidecast.models.neural.deepar import DeepAR

__all__ = ["CNNQR", "DeepAR"]
