"""A worked example of adding a variant (see README, "Adding a variant"): copy this
file to gans/variants/dropout_d.py and add "dropout-d" to grid.variants."""

from torch import nn

from gans.space import uniform
from gans.variants import VARIANTS
from gans.variants.gan import GAN


@VARIANTS.register("dropout-d")
class DropoutD(GAN):
    """D with dropout before its head: a classic trick against an over-confident D."""

    reference = "Goodfellow et al. 2014, Sec. 5"
    defaults = {"p": 0.3}  # becomes a config key: variants: {dropout-d: {p: 0.5}}
    # what a search (docs/search.md) varies, joined to the loss's ranges
    search_space = {"variant.params.p": uniform(0.0, 0.5)}

    def make_discriminator(self):
        d = self.arch.discriminator(self.dataset.shape)
        d.trunk = nn.Sequential(d.trunk, nn.Dropout(self.p))
        return d
