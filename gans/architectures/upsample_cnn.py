"""The upsampling CNN of the GAN-comparison literature (e.g. Lucic et al. 2018's
small set-up): G = two fully connected layers -> 128 x s x s -> upsample -> conv 64 ->
upsample -> conv to the image channels, tanh; D = conv 64 -> max-pool -> conv 128 ->
max-pool -> two fully connected layers -> one logit."""

from __future__ import annotations

from torch import nn

from gans.architectures import ARCHITECTURES, Architecture, Discriminator, check_image_shape

BASE = {28: 7, 32: 8}  # two 2x upsamplings reach the image size


@ARCHITECTURES.register("upsample-cnn")
class UpsampleCNN(Architecture):
    modalities = ("images",)
    param_schema = {"hidden": {"minimum": 1}}
    defaults = {"hidden": 1024}

    def generator(self, data_shape, noise_dim):
        channels, size = check_image_shape(self, data_shape, BASE)
        s = BASE[size]
        return nn.Sequential(
            nn.Linear(noise_dim, self.hidden),
            nn.BatchNorm1d(self.hidden),
            nn.ReLU(True),
            nn.Linear(self.hidden, 128 * s * s),
            nn.BatchNorm1d(128 * s * s),
            nn.ReLU(True),
            nn.Unflatten(1, (128, s, s)),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(128, 64, 5, padding=2),
            nn.BatchNorm2d(64),
            nn.ReLU(True),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(64, channels, 5, padding=2),
            nn.Tanh(),
        )

    def discriminator(self, data_shape, out_dim=1):
        channels, size = check_image_shape(self, data_shape, BASE, channels=None)
        s = BASE[size]
        trunk = nn.Sequential(
            nn.Conv2d(channels, 64, 5, padding=2),
            nn.LeakyReLU(0.2, True),
            nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 5, padding=2),
            nn.LeakyReLU(0.2, True),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(128 * s * s, self.hidden),
            nn.LeakyReLU(0.2, True),
        )
        return Discriminator(trunk, self.hidden, out_dim)  # the head is the second fully connected layer
