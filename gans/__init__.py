"""GAN variants, losses, datasets and the training loop of the benchmark."""

__version__ = "0.1.0"
