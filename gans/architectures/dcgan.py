"""DCGAN (Radford et al. 2016) for 28x28 and 32x32 images, 1 or 3 channels: strided
(transposed) convolutions, no pooling, no fully connected hidden layers, batch norm,
ReLU in G with a tanh output, LeakyReLU(0.2) in D (no batch norm on D's input layer)."""

from __future__ import annotations

from torch import nn

from gans.architectures import ARCHITECTURES, Architecture, Discriminator, check_image_shape

# spatial size of the smallest feature map, and how many stride-2 stages reach the image
STAGES = {28: (7, 2), 32: (4, 3)}


@ARCHITECTURES.register("dcgan")
class DCGAN(Architecture):
    modalities = ("images",)
    param_schema = {"ngf": {"minimum": 1}, "ndf": {"minimum": 1}}
    defaults = {"ngf": 64, "ndf": 64}

    def generator(self, data_shape, noise_dim):
        channels, size = check_image_shape(self, data_shape, STAGES)
        base, stages = STAGES[size]
        width = self.ngf * 2 ** (stages - 1)
        layers: list[nn.Module] = [
            nn.Unflatten(1, (noise_dim, 1, 1)),
            nn.ConvTranspose2d(noise_dim, width, base, 1, 0, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(True),
        ]
        for _ in range(stages - 1):
            layers += [
                nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(width // 2),
                nn.ReLU(True),
            ]
            width //= 2
        layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh()]
        return nn.Sequential(*layers)

    def discriminator(self, data_shape, out_dim=1):
        channels, size = check_image_shape(self, data_shape, STAGES, channels=None)
        base, stages = STAGES[size]
        width = self.ndf
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for _ in range(stages - 1):
            layers += [
                nn.Conv2d(width, width * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(width * 2),
                nn.LeakyReLU(0.2, True),
            ]
            width *= 2
        # the head (a linear map of the last base x base feature map) plays the
        # role of DCGAN's final base x base convolution to one logit
        return Discriminator(nn.Sequential(*layers, nn.Flatten()), width * base * base, out_dim)
