"""PacGAN (Lin et al., 2018): the discriminator judges m samples at once, packed
side by side (features of points, channels of images), which penalises a
generator whose samples lack diversity."""

from __future__ import annotations

from gans.space import choice
from gans.variants import VARIANTS
from gans.variants.gan import GAN


def pack(x, m: int):
    """(B, C, ...) -> (B/m, m*C, ...): m consecutive samples become one input."""
    return x.reshape(x.shape[0] // m, m * x.shape[1], *x.shape[2:])


@VARIANTS.register("pacgan")
class PacGAN(GAN):
    reference = "Lin et al. 2018"
    stackable = False  # its networks or steps are written for one seed
    defaults = {"pack": 2}
    # the packing degrees of the paper's Table 1 (PacGAN2 to PacGAN4); batch_size must be a multiple of each
    search_space = {"variant.params.pack": choice(2, 3, 4)}

    @classmethod
    def check(cls, run_cfg):
        m = cls.resolve_params(run_cfg["variant"]["params"])["pack"]
        if m < 2:
            raise ValueError(f"pack must be at least 2, got {m}")
        if run_cfg["train"]["batch_size"] % m:
            raise ValueError(f"batch_size {run_cfg['train']['batch_size']} is not a multiple of pack {m}")

    def make_discriminator(self):
        shape = self.dataset.shape
        return self.arch.discriminator((self.pack * shape[0], *shape[1:]))

    def d_outputs(self, x):
        return self.discriminator(pack(x, self.pack))

    def discriminate(self, x):
        # a single sample is judged as a pack of m copies of itself
        return super().discriminate(x.repeat_interleave(self.pack, dim=0))
